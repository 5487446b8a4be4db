"""Workforce management: traffic forecast per interval, Erlang C staffing, forecast vs actual.

- :mod:`hotline.wfm.erlang`: Erlang C (probability of waiting, service level, ASA, agents needed).
- :mod:`hotline.wfm.forecast`: offered calls and AHT per interval from the same weekday of recent weeks.
- :mod:`hotline.wfm.staffing`: the agents each forecast interval needs for a target.
- :mod:`hotline.wfm.compare`: forecast against actual (error, MAPE, WAPE), intraday and end of day.
- :mod:`hotline.wfm.history`: interval history from the store; :mod:`hotline.wfm.cli`: ``hotline wfm``.
"""

from hotline.wfm.compare import Comparison, IntervalComparison, compare
from hotline.wfm.erlang import Staffing, agents_needed, erlang_c, service_level, traffic_intensity
from hotline.wfm.forecast import IntervalForecast, IntervalHistory, forecast_days
from hotline.wfm.staffing import IntervalPlan, StaffingTarget, plan

__all__ = [
    "Comparison",
    "IntervalComparison",
    "IntervalForecast",
    "IntervalHistory",
    "IntervalPlan",
    "Staffing",
    "StaffingTarget",
    "agents_needed",
    "compare",
    "erlang_c",
    "forecast_days",
    "plan",
    "service_level",
    "traffic_intensity",
]
