"""Quality control of recorded calls: daily samples, scoring, calibration, QM reports (docs/qc.md).

The recording feature wires it: ``recording.qc.setup(services)`` adds the API, the ``/qc`` page
and the daily draw; ``recording.qc.cli_commands()`` adds ``hotline qc``.
"""

from __future__ import annotations

from hotline.feature import CliCommand, Services
from hotline.logs import get_logger
from hotline.web.app import add_background
from recording.qc.cli import COMMANDS
from recording.qc.http import QcApi
from recording.qc.routes import add_routes
from recording.qc.scheduler import DailySampler
from recording.qc.settings import QcSettings

log = get_logger(__name__)

__all__ = ["QcApi", "QcSettings", "cli_commands", "setup"]


def setup(services: Services) -> QcApi | None:
    """Add the QC API, the page and (with ``auto_sample``) the daily draw; None without a store.

    Raises :class:`hotline.config.ConfigError` when the ``[qc]`` section is wrong, so the
    service refuses to start rather than score on a broken form.
    """
    if services.engine is None:
        log.warning("QC off: no store")
        return None
    settings = QcSettings.from_config(services.config)
    api = QcApi(services.engine, settings)
    add_routes(services.web, api)
    if settings.auto_sample:
        sampler = DailySampler(services.engine, settings)
        add_background(services.web, "qc-sampler", sampler.start, sampler.stop)
    return api


def cli_commands() -> list[CliCommand]:
    """``hotline qc sample|report|calibrate|calibration``."""
    return list(COMMANDS)
