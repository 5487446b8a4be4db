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
