"""Wiring of the IVR feature into the core's services."""

from __future__ import annotations

from hotline import names
from hotline.feature import CliCommand, Services
from ivr.main_menu import make_handler


class IvrFeature:
    name = "ivr"

    def cli_commands(self) -> list[CliCommand]:
        return []

    def setup(self, services: Services) -> None:
        services.agi.add(names.AGI_IVR_MAIN, make_handler(services.call_context))

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


feature = IvrFeature()
