"""The rules every menu and entry follows, in one place.

- a timeout, and up to :data:`MAX_TRIES` tries, each failure answered with a clear message
  (:data:`~ivr.prompts.INVALID` / :data:`~ivr.prompts.NO_INPUT`);
- ``0`` reaches an agent from anywhere (:class:`~ivr.call.ToAgent`), and so does running out
  of tries: nobody is left in a dead menu;
- ``*`` goes back (the flow decides where that is); where there is no "back", it is invalid.

Every answer is noted in the call's path, entries masked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from typing import Final

from hotline.logs import mask_number
from ivr import prompts
from ivr.call import Call, ToAgent

MAX_TRIES: Final = 3
MENU_TIMEOUT_MS: Final = 5000
ENTRY_TIMEOUT_MS: Final = 6000
"""Per digit: a caller reading a 16-digit contract number off a slip needs the time."""
AGENT: Final = "0"
BACK: Final = "*"
SECRET: Final = "***"  # noqa: S105 - the mask shown for a secret entry, not a secret

Intro = Callable[[str], Awaitable[str | None]]
"""Plays what comes before a menu's last prompt; returns a key pressed meanwhile (or None)."""
Check = Callable[[str], Awaitable[str | None]]
"""Checks an entry: None if accepted, else the prompt that says why not (the try is used up)."""


class Dialog:
    """Menus and digit entries on one call."""

    def __init__(
        self,
        call: Call,
        *,
        tries: int = MAX_TRIES,
        menu_timeout_ms: int = MENU_TIMEOUT_MS,
        entry_timeout_ms: int = ENTRY_TIMEOUT_MS,
    ) -> None:
        self.call = call
        self.session = call.session
        self.tries = tries
        self.menu_timeout_ms = menu_timeout_ms
        self.entry_timeout_ms = entry_timeout_ms

    def _to_agent(self, step: str, reason: str) -> ToAgent:
        self.call.state.note(step, "agent" if reason == "pressed 0" else "gave-up")
        return ToAgent(reason)

    async def _failed(self, step: str, typed: str, invalid_prompt: str) -> None:
        self.call.state.note(step, "invalid" if typed else "timeout")
        await self.session.stream_file(invalid_prompt if typed else prompts.NO_INPUT)

    async def choose(
        self,
        step: str,
        prompt: str,
        options: Mapping[str, str],
        *,
        intro: Intro | None = None,
        allow_back: bool = True,
    ) -> str:
        """The name of the option chosen (``options`` maps a key to it), or :data:`BACK`."""
        escape = "".join(options) + AGENT + (BACK if allow_back else "")
        for _ in range(self.tries):
            key = await intro(escape) if intro is not None else None
            if key is None:
                key = (await self.session.get_data(prompt, self.menu_timeout_ms, 1)).digits[:1]
            if key == AGENT:
                raise self._to_agent(step, "pressed 0")
            if key == BACK and allow_back:
                self.call.state.note(step, "back")
                return BACK
            if key in options:
                self.call.state.note(step, options[key])
                return options[key]
            await self._failed(step, key, prompts.INVALID)
        raise self._to_agent(step, "no valid choice")

    async def offer(self, step: str, prompt: str, key: str) -> str:
        """An optional step: 'yes' if ``key`` is pressed while ``prompt`` plays, else 'no' (or BACK).

        Silence is an answer here ("no, thanks"), not a failure: the caller is not held up.
        """
        pressed = (await self.session.stream_file(prompt, key + AGENT + BACK)).digit
        if pressed == AGENT:
            raise self._to_agent(step, "pressed 0")
        answer = {key: "yes", BACK: BACK}.get(pressed or "", "no")
        self.call.state.note(step, "back" if answer == BACK else answer)
        return answer

    async def enter(
        self,
        step: str,
        prompt: str,
        *,
        min_len: int,
        max_len: int,
        secret: bool = False,
        allow_back: bool = True,
        check: Check | None = None,
    ) -> str:
        """Digits the caller keyed in (``#`` ends early), or :data:`BACK`.

        A lone ``0`` is the way to an agent, a lone ``*`` the way back; anything else that is
        not ``min_len`` to ``max_len`` digits, or that ``check`` refuses, uses up a try.
        """
        for _ in range(self.tries):
            typed = (await self.session.get_data(prompt, self.entry_timeout_ms, max_len)).digits
            if typed == AGENT:
                raise self._to_agent(step, "pressed 0")
            if typed == BACK and allow_back:
                self.call.state.note(step, "back")
                return BACK
            if not (typed.isdigit() and min_len <= len(typed) <= max_len):
                await self._failed(step, typed, prompts.INVALID_ENTRY)
                continue
            shown = SECRET if secret else mask_number(typed)
            refusal = await check(typed) if check is not None else None
            if refusal is not None:
                self.call.state.note(step, f"{shown}:refused")
                await self.session.stream_file(refusal)
                continue
            self.call.state.note(step, shown)
            return typed
        raise self._to_agent(step, "no valid entry")

    async def play(self, *files: str, escape: str = "") -> str | None:
        """Play prompts one after the other; stops at (and returns) a key in ``escape``."""
        for file in files:
            key = (await self.session.stream_file(file, escape)).digit
            if key is not None:
                return key
        return None

    async def say_amount(self, amount: int, escape: str = "") -> str | None:
        """'<amount> rupiah' in the channel's language (SAY NUMBER)."""
        key = await self.session.say_number(amount, escape)
        return key if key is not None else await self.play(prompts.RUPIAH, escape=escape)

    async def say_date(self, day: date, escape: str = "") -> str | None:
        """'17 Agustus 2025': the day and year with SAY NUMBER, the month as a prompt."""
        key = await self.session.say_number(day.day, escape)
        if key is None:
            key = await self.play(prompts.MONTHS[day.month - 1], escape=escape)
        if key is None:
            key = await self.session.say_number(day.year, escape)
        return key
