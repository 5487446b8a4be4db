"""The hotline 1500569 (script ``ivr/main``): greeting, language, main menu, each branch to its queue.

The greeting offers English on 9 while it plays (Indonesian is the default, so a caller who
knows the menu is never held up); the main menu: 1 Informasi, 2 Pengaduan, 3 Permintaan,
4 Saran, 5 Pembayaran, 0 agent. Pengaduan and Permintaan offer customer identification first
(``*`` there goes back to the main menu); a complaint also opens a ticket; Pembayaran runs the
payment flow in the same call. With speech input configured, the caller may also say the
service name (:mod:`ivr.speech`); anything not understood falls back to the key prompt.
"""

from __future__ import annotations

from typing import Final

from hotline import names
from ivr import prompts
from ivr.call import Call
from ivr.complaints import complaint
from ivr.dialog import BACK, Dialog, Intro
from ivr.identify import identify
from ivr.payment import payment

ENGLISH_KEY: Final = "9"
MAIN_MENU: Final = {
    "1": "informasi",
    "2": "pengaduan",
    "3": "permintaan",
    "4": "saran",
    "5": "pembayaran",
}
SPOKEN: Final = {
    "id": {
        "informasi": "1",
        "pengaduan": "2",
        "permintaan": "3",
        "saran": "4",
        "pembayaran": "5",
        "agen": "0",
    },
    "en": {
        "information": "1",
        "complaint": "2",
        "request": "3",
        "suggestion": "4",
        "payment": "5",
        "agent": "0",
    },
}
"""What a caller may say in the main menu instead of pressing the key."""
QUEUES: Final = {
    "informasi": names.QUEUE_INFORMASI,
    "pengaduan": names.QUEUE_PENGADUAN,
    "permintaan": names.QUEUE_PERMINTAAN,
    "saran": names.QUEUE_SARAN,
    "pembayaran": names.QUEUE_PEMBAYARAN,
}


async def hotline_menu(call: Call, dialog: Dialog) -> None:
    await call.set_language("id")
    if (await call.session.stream_file(prompts.GREETING, ENGLISH_KEY)).digit == ENGLISH_KEY:
        await call.set_language("en")
        call.state.note("lang", "en")
    while True:
        call.state.agent_queue = names.QUEUE_AGENT
        choice = await dialog.choose(
            "main", prompts.MAIN_MENU, MAIN_MENU, allow_back=False, intro=_speech(call)
        )
        if choice in ("informasi", "saran"):
            call.route(QUEUES[choice], choice)
            return
        if choice == "pembayaran":
            if await payment(call, dialog, from_menu=True) == BACK:
                continue
            return
        call.state.agent_queue = QUEUES[choice]
        if await identify(call, dialog) == BACK:
            call.state.verified = ""
            continue
        if choice == "pengaduan":
            await complaint(call, dialog)
        else:
            call.route(QUEUES[choice], choice)
        return


def _speech(call: Call) -> Intro | None:
    """With speech input: the menu prompt, then listen; nothing heard means the usual key prompt.

    Without it (not configured, no model, paused) the menu is keys only and costs nothing more.
    """
    speech = call.deps.speech
    if speech is None or not speech.available:
        return None

    async def say_it(escape: str) -> str | None:
        key = (await call.session.stream_file(prompts.MAIN_MENU, escape)).digit
        if key is not None:
            return key
        heard = await speech.listen(call.session, SPOKEN.get(call.state.lang, SPOKEN["id"]))
        if heard is not None:
            call.state.note("main-speech", heard.key)
        return heard.key if heard is not None else None

    return say_it
