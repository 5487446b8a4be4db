"""Walk a parsed dialplan the way Asterisk's pbx core would, for the few applications it uses.

Enough of Asterisk's semantics to follow a call through the shipped contexts:
``${VAR}`` and ``${FUNC(args)}`` substitution (innermost first; a function is a
variable named by its call text, e.g. ``CHANNEL(endpoint)``), ``$[...]``
expressions of quoted comparisons joined by ``&`` / ``|``, and the applications
Set, ExecIf, GotoIf, Goto, Gosub, Return, AGI, MixMonitor, Queue, Playback,
Log, Answer, Hangup. Anything else fails loudly, so the walk never guesses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .conftest import Step

_VARIABLE = re.compile(r"\$\{([^${}]*)\}")
# Only once every ${...} inside is substituted, as Asterisk does.
_EXPRESSION = re.compile(r"\$\[([^\[\]$]*)\]")
_COMPARISON = re.compile(r'^\s*"(?P<left>[^"]*)"\s*(?P<op>!=|=)\s*"(?P<right>[^"]*)"\s*$')


def _pattern(extension: str) -> re.Pattern[str]:
    """An Asterisk extension pattern (_ then X, Z, N, [..], '.', '!') as a regex."""
    classes = {"X": "[0-9]", "Z": "[1-9]", "N": "[2-9]", ".": ".+", "!": ".*"}
    parts = re.findall(r"\[[^\]]+\]|.", extension[1:])
    return re.compile("".join(classes.get(p, p if p.startswith("[") else re.escape(p)) for p in parts))


class DialplanWalkError(AssertionError):
    """The walk met something the shipped dialplan should not contain."""


def _compare(text: str) -> bool:
    match = _COMPARISON.match(text)
    if not match:
        raise DialplanWalkError(f"unsupported expression {text!r}")
    equal = match["left"] == match["right"]
    return equal if match["op"] == "=" else not equal


def evaluate(expression: str) -> str:
    """Asterisk's $[...] for comparisons of quoted strings: '1' or '0'."""
    result = any(
        all(_compare(part) for part in alternative.split("&")) for alternative in expression.split("|")
    )
    return "1" if result else "0"


@dataclass
class Call:
    """One channel walking the dialplan; ``agi`` answers each AGI() with the AGISTATUS it sets."""

    variables: dict[str, str]
    agi: Callable[[str, Call], str]
    trail: list[tuple[str, str]] = field(default_factory=list)
    """(application, substituted arguments) of every step run."""
    ended: str = ""
    """'queue' (reached Queue()), 'hangup', or '' while walking."""

    def substitute(self, text: str) -> str:
        while True:
            replaced = _VARIABLE.sub(lambda m: self.variables.get(m[1], ""), text)
            replaced = _EXPRESSION.sub(lambda m: evaluate(m[1]), replaced)
            if replaced == text:
                return text
            text = replaced


class Dialplan:
    """The steps of the shipped dialplans, addressable by context, extension and priority or label."""

    def __init__(self, steps: list[Step]) -> None:
        self._by_exten: dict[tuple[str, str], list[Step]] = {}
        for step in steps:
            self._by_exten.setdefault((step.context, step.exten), []).append(step)

    def _match(self, context: str, exten: str) -> list[Step] | None:
        """The exact extension, else the first pattern (_X., _10XX) that matches it."""
        exact = self._by_exten.get((context, exten))
        if exact is not None or exten.startswith("_"):
            return exact
        for (ctx, name), steps in self._by_exten.items():
            if ctx == context and name.startswith("_") and _pattern(name).fullmatch(exten):
                return steps
        return None

    def _position(self, context: str, exten: str, priority: str) -> tuple[list[Step], int]:
        steps = self._match(context, exten)
        if steps is None:
            raise DialplanWalkError(f"no extension {exten}@{context}")
        if priority.isdigit():
            return steps, int(priority) - 1
        for index, step in enumerate(steps):
            if step.label == priority:
                return steps, index
        raise DialplanWalkError(f"no label {priority} in {exten}@{context}")

    def run(self, call: Call, context: str, exten: str, priority: str = "1", limit: int = 200) -> Call:
        """Walk from context,exten,priority until Queue(), a hangup, or the end of the extension."""
        frames: list[tuple[list[Step], int, dict[str, str]]] = []
        steps, index = self._position(context, exten, priority)
        call.variables["EXTEN"] = exten
        for _ in range(limit):
            if index >= len(steps):
                call.ended = call.ended or "hangup"  # falling off an extension hangs up
                return call
            step = steps[index]
            index += 1
            app, args = step.app, step.args
            if app == "ExecIf":
                condition, _, inner = args.partition("?")
                if call.substitute(condition) != "1":
                    continue
                app, _, rest = inner.partition("(")
                args = rest[:-1]
            if app == "GotoIf":
                condition, _, targets = args.partition("?")
                if_true, _, if_false = targets.partition(":")
                target = if_true if call.substitute(condition) == "1" else if_false
                if not target:
                    continue
                app, args = "Goto", target
            text = call.substitute(args)
            call.trail.append((app, text))
            if app == "Goto":
                parts = text.split(",")
                ctx, ext, prio = ([step.context, step.exten][: 3 - len(parts)] + parts)[-3:]
                steps, index = self._position(ctx, ext, prio)
                call.variables["EXTEN"] = ext
            elif app == "Gosub":
                target, _, arguments = text.partition("(")
                ctx, ext, prio = target.split(",")
                saved = {k: v for k, v in call.variables.items() if k.startswith("ARG")}
                frames.append((steps, index, saved))
                for number, value in enumerate(arguments.rstrip(")").split(","), start=1):
                    call.variables[f"ARG{number}"] = value
                steps, index = self._position(ctx, ext, prio)
            elif app == "Return":
                if not frames:
                    raise DialplanWalkError(f"line {step.line}: Return() outside a Gosub")
                steps, index, saved = frames.pop()
                call.variables.update(saved)
            elif app == "Set":
                name, _, value = text.partition("=")
                call.variables[name.lstrip("_")] = value
            elif app == "AGI":
                call.variables["AGISTATUS"] = call.agi(text, call)
            elif app == "MixMonitor":
                call.variables["MIXMONITOR_FILENAME"] = text.split(",")[0]
            elif app == "Queue":
                call.ended = "queue"
                return call
            elif app == "Hangup":
                call.ended = "hangup"
                return call
            elif app not in {"Answer", "Playback", "Log"}:
                raise DialplanWalkError(f"line {step.line}: the walk does not know {app}()")
        raise DialplanWalkError(f"more than {limit} steps: a loop?")
