"""cdr_csv's Master.csv, read as Asterisk 22 writes it (the captures' cdr.csv)."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

import pytest

from hotline.kpi.cdr_csv import CDR_COLUMNS, end_of_line, parse_cdr_csv, parse_cdr_line

from .conftest import Capture, master_csv_line

ABANDON_FIRST = (
    '"","081298765432","1500569","from-provider","""Dewi Lestari"" <081298765432>",'
    '"PJSIP/provider-00000000","PJSIP/1001-00000001","Queue","cc-pengaduan,t,,,30",'
    '"2026-11-24 10:04:44","2026-11-24 10:04:44","2026-11-24 10:04:52",7,7,"NO ANSWER",'
    '"DOCUMENTATION","1795514684.0",""'
)


def test_every_capture_reads_without_errors_and_matches_its_queue_log(capture: Capture) -> None:
    lines = [line for line in (capture.folder / "cdr.csv").read_text(encoding="utf-8").splitlines() if line]
    result = capture.cdr()
    assert result.errors == []
    assert len(result.records) == len(lines)
    callids = {line.split("|")[1] for line in capture.queue_log_lines()} - {"NONE", "MANAGER"}
    queue_records = [r for r in result.records if r.queue is not None]
    # Every caller app_queue logged has Queue records under the same id (queue_log callid == uniqueid).
    assert callids <= {r.uniqueid for r in queue_records}
    for record in result.records:
        assert record.start <= record.end
        assert record.answer is None or record.start <= record.answer <= record.end


def test_a_record_field_by_field() -> None:
    record = parse_cdr_line(ABANDON_FIRST, UTC)
    assert record.uniqueid == "1795514684.0"
    assert record.channel == "PJSIP/provider-00000000"
    assert record.dstchannel == "PJSIP/1001-00000001"
    assert (record.lastapp, record.queue) == ("Queue", "cc-pengaduan")
    assert (record.dst, record.dcontext) == ("1500569", "from-provider")
    assert record.disposition == "NO ANSWER"
    # 2026-11-24 10:04:44 UTC is the uniqueid's own epoch second (the channel was created then).
    assert (record.start, record.answer, record.end) == (1795514684.0, 1795514684.0, 1795514692.0)


def test_dates_are_read_in_the_zone_given() -> None:
    utc = parse_cdr_line(ABANDON_FIRST, UTC)
    jakarta = parse_cdr_line(ABANDON_FIRST, ZoneInfo("Asia/Jakarta"))
    assert utc.end - jakarta.end == 7 * 3600
    assert end_of_line(ABANDON_FIRST, UTC) == utc.end


def test_a_non_queue_record_has_no_queue() -> None:
    line = ABANDON_FIRST.replace('"Queue","cc-pengaduan,t,,,30"', '"Hangup",""')
    assert parse_cdr_line(line, UTC).queue is None


def test_newcdrcolumns_and_an_empty_answer_are_read() -> None:
    line = ABANDON_FIRST.replace('"2026-11-24 10:04:44","2026-11-24 10:04:52"', ',"2026-11-24 10:04:52"')
    record = parse_cdr_line(line + ',"","1795514684.0",3', UTC)
    assert record.answer is None
    assert record.uniqueid == "1795514684.0"


def test_bad_lines_are_reported_and_the_rest_is_read() -> None:
    no_uniqueid = ",".join(ABANDON_FIRST.split(",")[: CDR_COLUMNS.index("uniqueid")])
    bad_date = ABANDON_FIRST.replace("2026-11-24 10:04:52", "yesterday")
    result = parse_cdr_csv([no_uniqueid, "", bad_date, ABANDON_FIRST, 'x,"unterminated'], UTC)
    assert [r.uniqueid for r in result.records] == ["1795514684.0"]
    assert [e.line_no for e in result.errors] == [1, 3, 5]
    assert "loguniqueid" in result.errors[0].reason
    assert "yesterday" in result.errors[1].reason
    assert "CDR line 3" in str(result.errors[1])
    assert end_of_line(bad_date, UTC) is None
    with pytest.raises(ValueError, match="empty uniqueid"):
        parse_cdr_line(ABANDON_FIRST.replace('"1795514684.0"', '""'), UTC)


def test_the_tests_master_csv_writer_writes_what_cdr_csv_wrote(capture: Capture) -> None:
    """Each Cdr event of a capture, written by the tests' writer, is a line of the capture's cdr.csv
    (the AMI session of ``actions`` ends before the last ones)."""
    written = [master_csv_line(dict(e.headers)) for e in capture.events() if e.name == "Cdr"]
    lines = (capture.folder / "cdr.csv").read_text(encoding="utf-8").splitlines()
    assert written and set(written) <= set(lines)
    if capture.name != "actions":
        assert len(written) == len([line for line in lines if line])
