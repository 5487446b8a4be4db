"""Validation of new users: every refusal names the field."""

from __future__ import annotations

import pytest

from hotline.auth.model import NewUser, UserError, normalize_username


def test_a_valid_agent_is_put_in_stored_form() -> None:
    user = NewUser(" 1001 ", "  Siti   Rahma ", "agent", "A", "jakarta", " PJSIP/1001 ", "jkt").checked()
    assert user == NewUser("1001", "Siti Rahma", "agent", "A", "jakarta", "PJSIP/1001", "jkt")


def test_usernames_are_lowercase() -> None:
    assert normalize_username("QC.Dewi") == "qc.dewi"


@pytest.mark.parametrize(
    ("user", "message"),
    [
        (NewUser("1001", "Siti", "boss", "A"), "role"),
        (NewUser("", "Siti", "agent", "A", iface="PJSIP/1001"), "username"),
        (NewUser("bad name", "Siti", "agent", "A", iface="PJSIP/1001"), "username"),
        (NewUser("x" * 65, "Siti", "agent", "A", iface="PJSIP/1001"), "username"),
        (NewUser("1001", "  ", "agent", "A", iface="PJSIP/1001"), "display name"),
        (NewUser("1001", "Siti", "agent", None, iface="PJSIP/1001"), "team"),
        (NewUser("tl", "Rina", "team_leader", None), "team"),
        (NewUser("1001", "Siti", "agent", "A"), "phone interface"),
        (NewUser("1001", "Siti", "agent", "A", iface="1001"), "phone interface"),
        (NewUser("1001", "Siti", "agent", "A", iface="PJSIP/10 01"), "phone interface"),
        (NewUser("1001", "Siti", "agent", "team A!", iface="PJSIP/1001"), "team"),
        (NewUser("1001", "Siti", "agent", "A", site="jak arta", iface="PJSIP/1001"), "site"),
    ],
)
def test_invalid_users_are_refused_by_field(user: NewUser, message: str) -> None:
    with pytest.raises(UserError, match=message):
        user.checked()


def test_qc_needs_neither_team_nor_phone() -> None:
    assert NewUser("qc.dewi", "Dewi", "qc").checked().team is None
