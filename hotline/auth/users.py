"""The users repository: async functions over ``auth_user`` (SQLAlchemy Core, SQLite and PostgreSQL).

Usernames are looked up in their stored form (:func:`hotline.auth.model.normalize_username`), so
``QC.Dewi`` and ``qc.dewi`` are one user. Database failures come out as one
:class:`~hotline.store.db.StoreError` naming the database (password masked).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.auth.model import NewUser, User, UserError, normalize_username
from hotline.auth.passwords import InvalidHash, parse_hash
from hotline.auth.tables import auth_user
from hotline.store.db import StoreError, describe_error, mask_url


class UserExists(UserError):
    """A user with this username is already in the store."""


class UnknownUser(UserError):
    """No user with this username."""


@asynccontextmanager
async def transaction(engine: AsyncEngine, doing: str) -> AsyncIterator[AsyncConnection]:
    """A transaction whose database errors become one :class:`StoreError` saying what failed."""
    try:
        async with engine.begin() as connection:
            yield connection
    except (SQLAlchemyError, OSError) as exc:
        reason = describe_error(engine, exc)
        raise StoreError(f"database {mask_url(engine.url)}: cannot {doing}: {reason}") from exc


def _user(row: sa.RowMapping) -> User:
    return User(
        id=int(row["id"]),
        username=row["username"],
        display_name=row["display_name"],
        role=row["role"],
        team=row["team"],
        site=row["site"],
        iface=row["iface"],
        pbx=row["pbx"],
        password_hash=row["password_hash"],
        active=bool(row["active"]),
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
    )


def _checked_hash(password_hash: str) -> str:
    # Only a hash this package made goes in, so a plain password can never be stored by mistake.
    try:
        parse_hash(password_hash)
    except InvalidHash as exc:
        raise UserError(f"not a password hash: {exc}") from None
    return password_hash


async def create_user(
    engine: AsyncEngine, new: NewUser, password_hash: str, *, now: float | None = None
) -> User:
    """Store a new active user; :class:`UserExists` if the name is taken, :class:`UserError` if invalid."""
    user = new.checked()
    stamp = time.time() if now is None else now
    values: dict[str, Any] = {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "team": user.team,
        "site": user.site,
        "iface": user.iface,
        "pbx": user.pbx,
        "password_hash": _checked_hash(password_hash),
        "active": True,
        "created_at": stamp,
        "updated_at": stamp,
    }
    try:
        async with engine.begin() as connection:
            result = await connection.execute(sa.insert(auth_user).values(values).returning(auth_user.c.id))
            new_id = int(result.scalar_one())
    except IntegrityError:
        raise UserExists(f"user {user.username!r} already exists") from None
    except (SQLAlchemyError, OSError) as exc:
        reason = describe_error(engine, exc)
        raise StoreError(f"database {mask_url(engine.url)}: cannot create a user: {reason}") from exc
    return User(id=new_id, **values)


async def get_user(engine: AsyncEngine, username: str) -> User | None:
    """The user with this username (any case), or None (also for a name that cannot be a username)."""
    try:
        name = normalize_username(username)
    except UserError:
        return None
    async with transaction(engine, "read a user") as connection:
        row = (await connection.execute(sa.select(auth_user).where(auth_user.c.username == name))).first()
    return _user(row._mapping) if row is not None else None


async def list_users(
    engine: AsyncEngine,
    *,
    role: str | None = None,
    team: str | None = None,
    site: str | None = None,
    active: bool | None = None,
) -> list[User]:
    """Users matching every filter given, by username."""
    query = sa.select(auth_user).order_by(auth_user.c.username)
    for column, value in ((auth_user.c.role, role), (auth_user.c.team, team), (auth_user.c.site, site)):
        if value is not None:
            query = query.where(sa.func.lower(column) == value.strip().lower())
    if active is not None:
        query = query.where(auth_user.c.active == active)
    async with transaction(engine, "list users") as connection:
        rows = (await connection.execute(query)).all()
    return [_user(row._mapping) for row in rows]


async def _update(engine: AsyncEngine, username: str, doing: str, **values: Any) -> User:
    name = normalize_username(username)
    values["updated_at"] = time.time()
    statement = sa.update(auth_user).where(auth_user.c.username == name).values(values).returning(auth_user)
    async with transaction(engine, doing) as connection:
        row = (await connection.execute(statement)).first()
    if row is None:
        raise UnknownUser(f"no user {name!r}")
    return _user(row._mapping)


async def set_password_hash(engine: AsyncEngine, username: str, password_hash: str) -> User:
    """Replace a user's password hash (a new password, or a rehash); :class:`UnknownUser` if absent."""
    return await _update(engine, username, "set a password", password_hash=_checked_hash(password_hash))


async def set_active(engine: AsyncEngine, username: str, active: bool) -> User:
    """Enable or disable a user (a disabled user cannot log in); :class:`UnknownUser` if absent."""
    return await _update(engine, username, "enable or disable a user", active=active)
