"""A report as one self-contained HTML page: KPI tiles, SVG charts against target, tables."""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from hotline.kpi.definitions import BY_AGENT, KpiSummary
from hotline.reports.model import DAILY, MONTHLY, WEEKLY, Report
from hotline.reports.svg import Series, bar_chart, line_chart

_TITLES = {DAILY: "Daily report", WEEKLY: "Weekly report", MONTHLY: "Monthly report"}
_STYLE = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px auto;max-width:1040px;color:#263238;
  background:#fff;font-size:15px;line-height:1.4}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:32px 0 8px;border-bottom:2px solid #e0e6ea}
.sub{color:#546e7a;margin:0 0 18px}
.tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:10px}
.tile{border:1px solid #d5dbe0;border-radius:8px;padding:10px 12px}
.tile .v{font-size:26px;font-weight:bold}.tile .k{color:#546e7a;font-size:13px}
.good{color:#1b7f3b}.bad{color:#c62828}
.chart{width:100%;height:auto;margin:6px 0 14px}
.chart-title{font-size:16px;font-weight:bold;fill:#263238}.axis{font-size:12px;fill:#546e7a}
.target{font-size:12px;fill:#ef6c00;font-weight:bold}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:4px 8px;border-bottom:1px solid #e0e6ea;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f3f6f8;position:sticky;top:0}
tr.total td{font-weight:bold;border-top:2px solid #90a4ae}
.note{color:#546e7a;font-size:12px;margin-top:24px}
"""
_COLUMNS = [
    ("offered", "Offered"),
    ("answered", "Answered"),
    ("abandoned", "Abandoned"),
    ("short_abandoned", "Short abd."),
    ("scr", "SCR %"),
    ("aht", "AHT s"),
    ("asa", "ASA s"),
    ("service_level", "SL %"),
    ("longest_wait", "Longest wait s"),
    ("transfers", "Transfers"),
]
_RATIOS = frozenset({"scr", "aht", "asa", "service_level", "longest_wait"})


def bucket_label(start: float, report: Report, tz: ZoneInfo) -> str:
    """``10:30`` in a day report, ``Mon 10`` / ``03-10`` for the days of a week / month."""
    local = datetime.fromtimestamp(start, tz)
    if report.period.kind == DAILY:
        return local.strftime("%H:%M")
    if report.period.kind == WEEKLY:
        return local.strftime("%a %d")
    return local.strftime("%d")


def _judge(value: float | None, target: float, higher_is_better: bool) -> str:
    if value is None:
        return ""
    return "good" if (value >= target if higher_is_better else value <= target) else "bad"


def _cells(summary: KpiSummary | None, report: Report) -> str:
    if summary is None:  # no call entered: counts are 0, ratios and times unknown
        return "".join("<td>-</td>" if key in _RATIOS else "<td>0</td>" for key, _ in _COLUMNS)
    values = summary.as_dict()
    out = []
    for key, _ in _COLUMNS:
        value = values[key]
        css = ""
        if key == "scr":
            css = _judge(summary.scr, report.targets.scr, True)
        elif key == "aht":
            css = _judge(summary.aht, report.targets.aht, False)
        text = "-" if value is None else (f"{value:,}" if isinstance(value, int) else f"{value:,.1f}")
        out.append(f'<td class="{css}">{text}</td>' if css else f"<td>{text}</td>")
    return "".join(out)


def _table(first: str, rows: list[tuple[str, KpiSummary | None]], total: KpiSummary, report: Report) -> str:
    head = "".join(f"<th>{escape(label)}</th>" for _, label in _COLUMNS)
    body = "".join(f"<tr><td>{escape(name)}</td>{_cells(kpis, report)}</tr>" for name, kpis in rows)
    body += f'<tr class="total"><td>Total</td>{_cells(total, report)}</tr>'
    return f"<table><thead><tr><th>{escape(first)}</th>{head}</tr></thead><tbody>{body}</tbody></table>"


def _tiles(report: Report) -> str:
    s, t = report.overall, report.targets

    def tile(label: str, value: str, css: str = "") -> str:
        shown = f'<div class="v {css}">{escape(value)}</div>'
        return f'<div class="tile">{shown}<div class="k">{escape(label)}</div></div>'

    def sec(v: float | None) -> str:
        return "-" if v is None else f"{v:,.0f} s"

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f} %"

    return (
        '<div class="tiles">'
        + "".join(
            [
                tile("Offered (COF)", f"{s.offered:,}"),
                tile("Answered", f"{s.answered:,}"),
                tile(f"Abandoned ({s.short_abandoned:,} short)", f"{s.abandoned:,}"),
                tile(f"SCR (target >= {t.scr:g} %)", pct(s.scr), _judge(s.scr, t.scr, True)),
                tile(f"AHT (target <= {t.aht:g} s)", sec(s.aht), _judge(s.aht, t.aht, False)),
                tile("ASA", sec(s.asa)),
                tile(f"Service level ({t.service_level_s:g} s)", pct(s.service_level)),
                tile("Longest wait", sec(s.longest_wait)),
            ]
        )
        + "</div>"
    )


def _charts(name: str, buckets: list[tuple[float, KpiSummary | None]], report: Report, tz: ZoneInfo) -> str:
    labels = [bucket_label(start, report, tz) for start, _ in buckets]
    kpis = [k for _, k in buckets]
    t = report.targets
    return "\n".join(
        [
            bar_chart(
                f"{name}: calls offered and answered",
                labels,
                [
                    Series("offered", [k.offered if k else None for k in kpis], "#90a4ae"),
                    Series("answered", [k.answered if k else None for k in kpis], "#1565c0"),
                ],
            ),
            line_chart(
                f"{name}: SCR (answered / offered)",
                labels,
                [k.scr if k else None for k in kpis],
                unit="%",
                target=t.scr,
                target_label=f"target {t.scr:g} %",
                top=100.0,
            ),
            line_chart(
                f"{name}: AHT ((talk + hold) / ACD calls)",
                labels,
                [k.aht if k else None for k in kpis],
                unit=" s",
                target=t.aht,
                target_label=f"target {t.aht:g} s",
                higher_is_better=False,
            ),
        ]
    )


def _group_section(report: Report, tz: ZoneInfo) -> str:
    by, t = report.by or "", report.targets
    names = list(report.groups)
    parts = [f"<h2>Per {escape(by)}</h2>"]
    if len(names) > 1:
        parts.append(
            bar_chart(
                f"SCR per {by}",
                names,
                [Series("SCR", [report.groups[n].scr for n in names], "#1565c0")],
                unit="%",
                target=t.scr,
                target_label=f"target {t.scr:g} %",
                higher_is_better=True,
            )
        )
        parts.append(
            bar_chart(
                f"AHT per {by}",
                names,
                [Series("AHT", [report.groups[n].aht for n in names], "#6a1b9a")],
                unit=" s",
                target=t.aht,
                target_label=f"target {t.aht:g} s",
                higher_is_better=False,
            )
        )
    rows: list[tuple[str, KpiSummary | None]] = [(name, report.groups[name]) for name in names]
    parts.append(_table(by.capitalize(), rows, report.overall, report))
    if report.by == BY_AGENT:
        parts.append(_agent_time_section(report, names))
    return "\n".join(parts)


def _duration(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _agent_time_section(report: Report, names: list[str]) -> str:
    """Login, pauses by reason, available time and occupancy of each agent (hotline.kpi.agent_definitions)."""
    parts = ["<h2>Agent time</h2>"]
    if len(names) > 1:
        occupancy = [t.occupancy if (t := report.agent_time.get(n)) else None for n in names]
        parts.append(
            bar_chart("Occupancy per agent", names, [Series("occupancy", occupancy, "#00897b")], unit="%")
        )
    labels = ("Agent", "Logged in", "Paused", "Available", "Occupancy %", "Pauses by reason")
    head = "".join(f"<th>{label}</th>" for label in labels)
    body = []
    for name in names:
        t = report.agent_time.get(name)
        if t is None:
            cells = "<td>0:00:00</td>" * 3 + "<td>-</td><td></td>"
        else:
            reasons = ", ".join(
                f"{escape(reason or '(no reason)')} {_duration(seconds)}"
                for reason, seconds in sorted(t.pause_by_reason.items())
            )
            occupancy_text = "-" if t.occupancy is None else f"{t.occupancy:.1f}"
            cells = (
                f"<td>{_duration(t.login_s)}</td><td>{_duration(t.pause_s)}</td>"
                f"<td>{_duration(t.available_s)}</td><td>{occupancy_text}</td>"
                f'<td style="text-align:left">{reasons}</td>'
            )
        body.append(f"<tr><td>{escape(name)}</td>{cells}</tr>")
    parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
    return "\n".join(parts)


def render(report: Report, generated_at: float, tz: ZoneInfo) -> str:
    """The whole page (UTF-8 text)."""
    period = report.period
    title = f"{_TITLES[period.kind]} {period.label}"
    last = period.days[-1]
    span = period.first_day.isoformat() + ("" if last == period.first_day else f" .. {last.isoformat()}")
    created = datetime.fromtimestamp(generated_at, tz).strftime("%Y-%m-%d %H:%M")
    bucket = "interval" if period.kind == DAILY else "day"
    bucket_rows = [(bucket_label(start, report, tz), kpis) for start, kpis in report.buckets]
    scope = (
        f'<p class="sub">Scope: {escape(report.scope)}. Offers count the ACD calls its agents answered.</p>'
        if report.scope
        else ""
    )
    body = [
        f"<h1>Pegadaian contact center: {escape(title)}</h1>",
        scope,
        f'<p class="sub">{escape(span)} ({escape(report.timezone)}), per {bucket} '
        f"({escape(period.bucket.label)}). Generated {escape(created)}.</p>",
        _tiles(report),
        f"<h2>Per {bucket}</h2>",
        _charts(report.scope.capitalize() if report.scope else "All calls", report.buckets, report, tz),
        _table(bucket.capitalize(), bucket_rows, report.overall, report),
    ]
    if report.by is not None:
        body.append(_group_section(report, tz))
    body.append(
        '<p class="note">SCR = answered / offered x 100 (target from the operations manual). '
        "AHT = (talk + agent hold) / ACD calls answered; wrap-up and queue wait excluded. "
        f"Service level = answered within {report.targets.service_level_s:g} s / answered. "
        f"Short abandons: hung up within {report.targets.short_abandon_s:g} s. Overall and per-site "
        "figures count calls; per-queue and per-agent figures count each queue attempt. "
        "Agent time: logged in = a member of a queue; paused = paused in every queue the agent is "
        "in (not while on a call); available = logged in - paused; occupancy = (time on ACD calls "
        "+ wrap-up pause) / (available + wrap-up pause) x 100.</p>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
