"""Bad lines of queue_log and of the CDR CSV are reported alike, each naming its own file."""

from __future__ import annotations

from datetime import UTC

from hotline.kpi.cdr_csv import CdrError, parse_cdr_csv
from hotline.kpi.from_queue_log import QueueLogError, parse_queue_log
from hotline.kpi.line_errors import SHOWN_CHARS, PbxLineError


def test_both_readers_report_the_shared_error_under_their_own_name() -> None:
    [queue_log_error] = parse_queue_log("not-a-time|c.1|q1|NONE|ENTERQUEUE||0811|1\n", pbx="jkt-1").errors
    [cdr_error] = parse_cdr_csv(['x,"unterminated'], UTC).errors

    assert type(queue_log_error) is QueueLogError and isinstance(queue_log_error, PbxLineError)
    assert type(cdr_error) is CdrError and isinstance(cdr_error, PbxLineError)
    assert str(queue_log_error).startswith("queue_log line 1: ")
    assert str(cdr_error).startswith("CDR line 1: ")


def test_same_line_from_different_files_are_different_errors() -> None:
    from_queue_log: PbxLineError = QueueLogError(2, "x", "why")
    from_cdr: PbxLineError = CdrError(2, "x", "why")
    assert from_queue_log != from_cdr
    assert QueueLogError(2, "x", "why") == QueueLogError(2, "x", "why")


def test_a_long_line_is_quoted_only_in_part() -> None:
    error = CdrError(7, "a" * (SHOWN_CHARS + 50) + "TAIL", "too many columns")
    message = str(error)
    assert message.startswith("CDR line 7: too many columns: 'aaa")
    assert "TAIL" not in message
    assert message.count("a") >= SHOWN_CHARS
