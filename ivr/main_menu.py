"""The hotline's main menu (1500569): greeting, one-digit menu, queue chosen.

This is the foundation's menu: every branch ends in the queue of its service. A
caller who gives no valid choice after three tries, or presses 0, goes to any agent:
nobody is ever left in a dead menu.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from hotline import names
from hotline.feature import CallContextStore
from hotline.logs import get_logger
from ivr import prompts

log = get_logger(__name__)

MAX_TRIES: Final = 3
MENU_TIMEOUT_MS: Final = 5000


@dataclass(frozen=True)
class MenuOption:
    choice: str
    queue: str


MAIN_MENU: Final[dict[str, MenuOption]] = {
    "1": MenuOption("informasi", names.QUEUE_INFORMASI),
    "2": MenuOption("pengaduan", names.QUEUE_PENGADUAN),
    "3": MenuOption("permintaan", names.QUEUE_PERMINTAAN),
    "4": MenuOption("saran", names.QUEUE_SARAN),
    "5": MenuOption("pembayaran", names.QUEUE_PEMBAYARAN),
    "0": MenuOption("agen", names.QUEUE_AGENT),
}
FALLBACK: Final = MenuOption("agen", names.FALLBACK_QUEUE)


async def choose(session: Any) -> tuple[MenuOption, list[str]]:
    """Ask for a digit up to MAX_TRIES times; returns the option and the path walked."""
    path: list[str] = []
    for _ in range(MAX_TRIES):
        result = await session.get_data(prompts.MAIN_MENU, MENU_TIMEOUT_MS, 1)
        digit = (result.digits or "")[:1]
        option = MAIN_MENU.get(digit)
        if option is not None:
            path.append(option.choice)
            return option, path
        if digit:
            path.append("invalid")
            await session.stream_file(prompts.INVALID)
        else:
            path.append("timeout")
            await session.stream_file(prompts.NO_INPUT)
    return FALLBACK, [*path, FALLBACK.choice]


def make_handler(call_context: CallContextStore) -> Any:
    async def main_menu(session: Any) -> None:
        env = session.env
        await session.stream_file(prompts.GREETING)
        option, path = await choose(session)
        path_text = "/".join(["main", *path])
        # The queue first: if the caller hangs up after this, the call is already routed.
        await session.set_variable(names.VAR_QUEUE, option.queue)
        await session.set_variable(names.VAR_IVR_CHOICE, option.choice)
        await session.set_variable(names.VAR_IVR_PATH, path_text)
        await call_context.set(
            session.pbx, env.uniqueid, {"choice": option.choice, "path": path_text, "queue": option.queue}
        )
        log.info("ivr routed", choice=option.choice, queue=option.queue, path=path_text)

    return main_menu
