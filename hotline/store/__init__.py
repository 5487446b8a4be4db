"""The store: the durable AMI event log, queue attempts and call context (SQLite or PostgreSQL)."""

from hotline.store.db import DEFAULT_URL, StoreError, check, create_engine, mask_url, migrate
from hotline.store.eventlog import EventLog
from hotline.store.events import StoredEvent, capture_session_id, iter_events, new_session_id
from hotline.store.repo import (
    get_call_context,
    get_call_context_by_linkedid,
    load_attempts,
    set_call_context,
    upsert_attempts,
)

__all__ = [
    "DEFAULT_URL",
    "EventLog",
    "StoreError",
    "StoredEvent",
    "capture_session_id",
    "check",
    "create_engine",
    "get_call_context",
    "get_call_context_by_linkedid",
    "iter_events",
    "load_attempts",
    "mask_url",
    "migrate",
    "new_session_id",
    "set_call_context",
    "upsert_attempts",
]
