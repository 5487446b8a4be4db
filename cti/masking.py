"""What the screen-pop may show of the IVR's answers: masked where they are sensitive.

The IVR already masks what it notes in the path (a birth date is ``dob=***``, a
customer number ``customer=******0001``), but the pop also reads the path from a
channel variable any dialplan can set, and a value once on an agent's screen is
out. So the CTI masks again, by rule, whatever the source:

- a step that names a secret (PIN, OTP, birth date, password...) shows ``***``;
- any run of 6 or more digits shows its last 4 only (customer, contract and card
  numbers; short codes such as an outlet code or a menu key stay readable);
- a customer number is shown whole only when the IVR verified the caller.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from hotline import names
from hotline.logs import mask_number

SECRET_MASK: Final = "***"  # noqa: S105 - the mask shown for a secret answer, not a secret
_SECRET_STEP: Final = re.compile(
    r"(?:^|[-_.])(?:m?pin|otp|dob|birth\w*|lahir|tgl\w*|pass(?:word|wd|code)?|sandi|secret|cvv)(?:$|[-_.])",
    re.IGNORECASE,
)
"""A word of a step name that says the answer is a secret (``dob``, ``enter-pin``, ``tanggal-lahir``)."""
_LONG_DIGITS: Final = re.compile(r"\d{6,}")
MAX_TEXT: Final = 300
"""Longest IVR value put on a pop (the IVR's own path is shorter; a channel variable may not be)."""


def mask_digits(text: str) -> str:
    """Every run of 6+ digits masked but its last 4: ``CIF 1000000001`` -> ``CIF ******0001``."""
    return _LONG_DIGITS.sub(lambda found: mask_number(found.group()), text)


def mask_path(path: str | None) -> str | None:
    """The IVR path (``step=value/step=value``) with secret steps hidden and long numbers masked."""
    if not path:
        return None
    segments = []
    for segment in path[:MAX_TEXT].split("/"):
        step, sep, _ = segment.partition("=")
        if sep and _SECRET_STEP.search(step):
            segments.append(f"{step}={SECRET_MASK}")
        else:
            segments.append(mask_digits(segment))
    return "/".join(segments)


def _text(value: str | None) -> str | None:
    """A plain IVR value for the pop: trimmed, bounded, long digit runs masked, empty -> None."""
    if value is None or not value.strip():
        return None
    return mask_digits(value.strip()[:MAX_TEXT])


def verified_flag(value: str | None) -> bool | None:
    """The IVR's ``verified``: ``yes`` -> True, ``no`` -> False, anything else (not asked) -> None."""
    match (value or "").strip().lower():
        case "yes" | "true" | "1":
            return True
        case "no" | "false" | "0":
            return False
        case _:
            return None


def ivr_block(variables: Mapping[str, str], context: Mapping[str, str]) -> dict[str, Any]:
    """The pop's ``ivr``: the caller's choices, channel variables first (the channel's state as it rang)."""

    def pick(variable: str | None, key: str) -> str | None:
        return (variables.get(variable) if variable else None) or context.get(key) or None

    outlet_code, outlet_name = pick(names.VAR_OUTLET_CODE, "outlet_code"), context.get("outlet_name")
    return {
        "choice": _text(pick(names.VAR_IVR_CHOICE, "choice")),
        "path": mask_path(pick(names.VAR_IVR_PATH, "path")),
        "queue": _text(pick(None, "queue")),
        "lang": _text(pick(names.VAR_LANG, "lang")),
        "script": _text(pick(None, "script")),
        "verified": verified_flag(pick(names.VAR_VERIFIED, "verified")),
        "outlet": (
            {"code": _text(outlet_code), "name": _text(outlet_name)} if outlet_code or outlet_name else None
        ),
        "payment_ref": (pick(names.VAR_PAYMENT_REF, "payment_ref") or "").strip()[:40] or None,
    }


def customer_from_ivr(variables: Mapping[str, str], context: Mapping[str, str]) -> dict[str, Any] | None:
    """Who the caller said they are in the IVR; the number whole only when verified."""
    number = (variables.get(names.VAR_CUSTOMER_NO) or context.get("customer_no") or "").strip()
    name = (context.get("customer_name") or "").strip()
    if not number and not name:
        return None
    verified = verified_flag(variables.get(names.VAR_VERIFIED) or context.get("verified"))
    return {
        "number": (number if verified else mask_number(number)) or None,
        "name": name[:MAX_TEXT] or None,
        "verified": verified,
        "products": None,
        "source": "ivr",
    }


def customer_from_core(body: Any) -> dict[str, Any]:
    """The core system's Customer (docs/core-system.openapi.json) for a verified caller.

    Contract numbers keep their last 4 digits only: enough to tell the caller's
    contracts apart; the agent's core-system screen has the rest.
    Raises ValueError when the body is not a Customer.
    """
    if not isinstance(body, Mapping):
        raise ValueError("the core system's answer is not a JSON object")
    number, name, products = body.get("customer_no"), body.get("name"), body.get("products", [])
    if not isinstance(number, str) or not isinstance(name, str) or not isinstance(products, list):
        raise ValueError("the core system's answer lacks customer_no, name or products")
    return {
        "number": number[:20],
        "name": name[:MAX_TEXT],
        "verified": True,
        "products": [_product(p) for p in products[:20] if isinstance(p, Mapping)],
        "source": "core_system",
    }


def _product(product: Mapping[str, Any]) -> dict[str, Any]:
    contract = product.get("contract_no")
    return {
        "contract": mask_number(contract) if isinstance(contract, str) else None,
        "product": str(product.get("product") or "")[:80] or None,
        "status": str(product.get("status") or "")[:20] or None,
    }
