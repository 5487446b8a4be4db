"""KPI rollups: 15-minute sums kept current as events arrive, so a month of KPIs reads in milliseconds.

- :mod:`hotline.rollup.tables`: ``kpi_rollup`` and ``queue_log_import`` (migration ``0004_kpi``).
- :mod:`hotline.rollup.contrib`: what one call adds to the rollups (pure).
- :mod:`hotline.rollup.writer`: :class:`RollupWriter`, attempts + rollup differences in one
  transaction; the composition root calls it for every committed batch of AMI events.
- :mod:`hotline.rollup.query`: :func:`rollup_report`, the report of :mod:`hotline.kpi.report`
  computed from the rollups.
- :mod:`hotline.rollup.rebuild` (``hotline rebuild``) and :mod:`hotline.rollup.ingest`
  (``hotline ingest --queue-log``).

Calls and ACD attempts, kept apart as :mod:`hotline.kpi.definitions` decides:

- SCR, offered, answered, abandoned (and short abandons), timed out, exited and waiting count
  **calls**. A blind transfer into a second queue makes a second attempt of the same call, so a
  call is counted once, in the queue row of its **first attempt's** 15-minute interval, with the
  outcome of the whole call (answered if any attempt was; otherwise its last attempt's).
  When attempt 2 arrives later, the writer takes the call's old contribution out of that row and
  puts the new one in: the call never counts twice, in no interval.
- AHT, talk, hold, ASA, service level, longest wait, transfers and ring-no-answer are measured per
  **attempt** (per ACD call), each in its own attempt's interval, as are the ``attempts_*``
  outcome counts that per-queue and per-agent KPIs use (there every attempt is an offer).
- One source per call: AMI when AMI saw it, else queue_log (a backfilled gap).
"""

from hotline.rollup.contrib import Thresholds
from hotline.rollup.query import rollup_report
from hotline.rollup.writer import RollupWriter

__all__ = ["RollupWriter", "Thresholds", "rollup_report"]
