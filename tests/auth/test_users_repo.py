"""The users repository on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth import passwords
from hotline.auth.model import NewUser, UserError
from hotline.auth.users import (
    UnknownUser,
    UserExists,
    create_user,
    get_user,
    list_users,
    set_active,
    set_password_hash,
)
from hotline.store.db import StoreError

CHEAP = passwords.ScryptParams(ln=4, r=8, p=1)
HASH = passwords.hash_password("agent password", CHEAP)

SITI = NewUser("1001", "Siti Rahma", "agent", "A", "jakarta", "PJSIP/1001", "jkt")
RINA = NewUser("tl.rina", "Rina", "team_leader", "A", "jakarta")
BAYU = NewUser("2001", "Bayu", "agent", "B", "yogyakarta", "PJSIP/2001")
DEWI = NewUser("QC.Dewi", "Dewi", "qc")


async def test_create_and_read_back(engine: AsyncEngine) -> None:
    created = await create_user(engine, SITI, HASH, now=1_700_000_000.0)
    read = await get_user(engine, "1001")
    assert read == created
    assert read is not None and read.id > 0 and read.active
    assert (read.role, read.team, read.site, read.iface, read.pbx) == (
        "agent",
        "A",
        "jakarta",
        "PJSIP/1001",
        "jkt",
    )
    assert read.created_at == read.updated_at == 1_700_000_000.0
    assert passwords.verify_password("agent password", read.password_hash)


async def test_usernames_are_unique_and_case_blind(engine: AsyncEngine) -> None:
    await create_user(engine, DEWI, HASH)
    assert (await get_user(engine, "qc.dewi")) is not None
    assert (await get_user(engine, "QC.DEWI")) is not None
    with pytest.raises(UserExists):
        await create_user(engine, NewUser("qc.dewi", "Other Dewi", "qa"), HASH)


async def test_unknown_and_impossible_names_are_none(engine: AsyncEngine) -> None:
    assert await get_user(engine, "9999") is None
    assert await get_user(engine, "'; DROP TABLE auth_user; --") is None


async def test_a_plain_password_is_never_stored(engine: AsyncEngine) -> None:
    with pytest.raises(UserError, match="not a password hash"):
        await create_user(engine, SITI, "agent password")
    await create_user(engine, SITI, HASH)
    with pytest.raises(UserError, match="not a password hash"):
        await set_password_hash(engine, "1001", "new password")


async def test_list_with_filters(engine: AsyncEngine) -> None:
    for user in (SITI, RINA, BAYU, DEWI):
        await create_user(engine, user, HASH)
    await set_active(engine, "2001", False)
    assert [u.username for u in await list_users(engine)] == ["1001", "2001", "qc.dewi", "tl.rina"]
    assert [u.username for u in await list_users(engine, role="agent")] == ["1001", "2001"]
    assert [u.username for u in await list_users(engine, team="a")] == ["1001", "tl.rina"]
    assert [u.username for u in await list_users(engine, site="Yogyakarta")] == ["2001"]
    assert [u.username for u in await list_users(engine, role="agent", active=True)] == ["1001"]
    assert [u.username for u in await list_users(engine, active=False)] == ["2001"]


async def test_set_password_hash_and_active(engine: AsyncEngine) -> None:
    created = await create_user(engine, SITI, HASH, now=1.0)
    fresh = passwords.hash_password("a new password", CHEAP)
    changed = await set_password_hash(engine, "1001", fresh)
    assert changed.password_hash == fresh and changed.updated_at > created.updated_at
    disabled = await set_active(engine, "1001", False)
    assert not disabled.active
    assert (await get_user(engine, "1001")) == disabled
    assert (await set_active(engine, "1001", True)).active


async def test_changes_to_unknown_users_say_so(engine: AsyncEngine) -> None:
    with pytest.raises(UnknownUser, match="9999"):
        await set_active(engine, "9999", False)
    with pytest.raises(UnknownUser):
        await set_password_hash(engine, "9999", HASH)


async def test_the_database_refuses_an_unknown_role(engine: AsyncEngine) -> None:
    # The check constraint backs the Python validation (a row written by hand cannot invent a role).
    from sqlalchemy import insert

    from hotline.auth.tables import auth_user

    row = {
        "username": "x",
        "display_name": "x",
        "role": "superuser",
        "password_hash": HASH,
        "active": True,
        "created_at": 0.0,
        "updated_at": 0.0,
    }
    with pytest.raises(Exception, match=r"(?i)check"):
        async with engine.begin() as connection:
            await connection.execute(insert(auth_user).values(row))


def test_the_user_repr_and_public_form_hide_the_hash() -> None:
    from hotline.auth.model import User

    user = User(1, "1001", "Siti", "agent", "A", None, "PJSIP/1001", None, HASH, True, 0.0, 0.0)
    assert HASH not in repr(user)
    assert "password_hash" not in user.public()


async def test_an_unreachable_database_is_one_store_error(closed_port: int) -> None:
    from hotline.store import create_engine

    engine = create_engine(f"postgresql+asyncpg://hotline:topsecret@127.0.0.1:{closed_port}/none")
    try:
        with pytest.raises(StoreError) as caught:
            await get_user(engine, "1001")
    finally:
        await engine.dispose()
    assert "topsecret" not in str(caught.value) and "read a user" in str(caught.value)
