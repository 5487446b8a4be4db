"""Every name the dialplan and the Python side must agree on.

The shipped dialplans (``dialplans/*.conf``) use these channel variables, AGI
script names and queue names; a test parses the dialplans and checks that every
``AGI(agi://...)`` script has a route here and every ``HOTLINE_*`` variable is
listed here. Change a name in both places or the test fails.
"""

from __future__ import annotations

from typing import Final

# --- FastAGI scripts (the path part of agi://host:port/<script>) -------------
AGI_IVR_MAIN: Final = "ivr/main"
AGI_IVR_PAYMENT: Final = "ivr/payment"
AGI_IVR_SAPA: Final = "ivr/sapa"

# --- Channel variables set by hotline or read by the dialplan ------------------
VAR_QUEUE: Final = "HOTLINE_QUEUE"
"""Queue the caller should enter after the IVR."""
VAR_STATUS: Final = "HOTLINE_STATUS"
"""Outcome of the AGI script: OK, FAILED (handler error), NOROUTE (unknown script)."""
VAR_IVR_CHOICE: Final = "HOTLINE_IVR_CHOICE"
"""Last menu choice of the caller (a service name, not the digit)."""
VAR_IVR_PATH: Final = "HOTLINE_IVR_PATH"
"""Menu path, '/'-separated (for the screen-pop and the recording index)."""
VAR_SITE: Final = "HOTLINE_SITE"
"""Site that took the call (jakarta, yogyakarta), set by the dialplan."""
VAR_LANG: Final = "HOTLINE_LANG"
"""Language the caller chose in the IVR (id, en); CHANNEL(language) is set to the same."""
VAR_VERIFIED: Final = "HOTLINE_VERIFIED"
"""Identification: yes (verified by the core system), no (failed or impossible), empty (not tried)."""
VAR_CUSTOMER_NO: Final = "HOTLINE_CUSTOMER_NO"
"""Customer number the caller identified with (verified or not: see HOTLINE_VERIFIED)."""
VAR_OUTLET_CODE: Final = "HOTLINE_OUTLET_CODE"
"""SAPA line: code of the outlet that called (empty when it could not be identified)."""
VAR_TICKET: Final = "HOTLINE_TICKET"
"""Ticket key of the complaint the IVR opened, or the ticket the caller asked about."""
VAR_PAYMENT_REF: Final = "HOTLINE_PAYMENT_REF"
"""Reference of the payment made in the IVR during this call."""

# --- Dialplan [globals] (set per PBX in extensions.conf, read by the dialplan only) ---
GLOBAL_AGI_HOST: Final = "HOTLINE_AGI_HOST"
"""Host of hotline's FastAGI server as the PBX reaches it."""
GLOBAL_AGI_PORT: Final = "HOTLINE_AGI_PORT"
"""Port of hotline's FastAGI server (4573 by default)."""
GLOBAL_HOME_SITE: Final = "HOTLINE_HOME_SITE"
"""This PBX's site; copied into HOTLINE_SITE on every call."""

STATUS_OK: Final = "OK"
STATUS_FAILED: Final = "FAILED"
STATUS_NOROUTE: Final = "NOROUTE"

ALL_VARIABLES: Final = frozenset(
    {
        VAR_QUEUE,
        VAR_STATUS,
        VAR_IVR_CHOICE,
        VAR_IVR_PATH,
        VAR_SITE,
        VAR_LANG,
        VAR_VERIFIED,
        VAR_CUSTOMER_NO,
        VAR_OUTLET_CODE,
        VAR_TICKET,
        VAR_PAYMENT_REF,
        GLOBAL_AGI_HOST,
        GLOBAL_AGI_PORT,
        GLOBAL_HOME_SITE,
    }
)
ALL_AGI_SCRIPTS: Final = frozenset({AGI_IVR_MAIN, AGI_IVR_PAYMENT, AGI_IVR_SAPA})

# --- Queues (one per service; the sapa line has its own helpdesk queue) ------
QUEUE_INFORMASI: Final = "cc-informasi"
QUEUE_PENGADUAN: Final = "cc-pengaduan"
QUEUE_PERMINTAAN: Final = "cc-permintaan"
QUEUE_SARAN: Final = "cc-saran"
QUEUE_PEMBAYARAN: Final = "cc-pembayaran"
QUEUE_AGENT: Final = "cc-umum"
"""Any agent: the caller pressed 0 or the IVR could not route."""
QUEUE_SAPA_HELPDESK: Final = "sapa-helpdesk"

FALLBACK_QUEUE: Final = QUEUE_AGENT
"""Where the dialplan sends a caller when hotline's AGI is down or fails."""

ALL_QUEUES: Final = (
    QUEUE_INFORMASI,
    QUEUE_PENGADUAN,
    QUEUE_PERMINTAAN,
    QUEUE_SARAN,
    QUEUE_PEMBAYARAN,
    QUEUE_AGENT,
    QUEUE_SAPA_HELPDESK,
)

QUEUE_TRANSFER_EXTENSIONS: Final = {
    QUEUE_SAPA_HELPDESK: "1600",
    QUEUE_INFORMASI: "1601",
    QUEUE_PENGADUAN: "1602",
    QUEUE_PERMINTAAN: "1603",
    QUEUE_SARAN: "1604",
    QUEUE_PEMBAYARAN: "1605",
    QUEUE_AGENT: "1606",
}
"""[from-agents] extensions that put a transferred caller into each queue (dialplans/hotline.conf)."""
