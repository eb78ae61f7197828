"""Stand-ins, on the submission's side, for kit objects that live in the harness.

Stdlib-only; runs inside the sandbox. A stand-in holds no record of what happens to it: a
scripted callable or a fake sleep forwards each call to the harness (a reverse call), where the
real object records it; a counting key forwards each comparison and hash, so it does not even
know its own value. Only a fake clock's current time is copied here, because a clock is an
input: the harness sends its new time with every frame, and what the submission does to its
copy changes nothing the harness observes.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable

TYPE_CHECKING = False  # typing's own flag would import typing: 3 ms of every sandbox's start
if TYPE_CHECKING:
    from typing import Any

    #: Sends a reverse call ``(kit_id, method, args, kwargs)`` and returns its result.
    Reverse = Callable[[int, str, tuple[Any, ...], dict[str, Any]], Any]
    #: Sends a one-way call record ``(kit_id, args, kwargs)``.
    Report = Callable[[int, tuple[Any, ...], dict[str, Any]], None]


class KitStandIn:
    """Base of every stand-in: the id of the harness object it stands for."""

    _kit_id: int


class KitCallable(KitStandIn):
    """A scripted callable or fake sleep: each call is a reverse call."""

    def __init__(self, kit_id: int, reverse: Reverse, name: str, doc: str | None) -> None:
        self._kit_id, self._reverse = kit_id, reverse
        self.__name__ = self.__qualname__ = name
        self.__doc__ = doc
        self.__module__ = "grader_kit"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._reverse(self._kit_id, "__call__", args, kwargs)

    def __repr__(self) -> str:
        return f"<kit callable {self.__name__}>"


class KitScript(KitStandIn):
    """A scripted callable without a gate: replays its steps (inputs) and reports each call to
    the harness, which keeps the call log."""

    def __init__(
        self, kit_id: int, report: Report, name: str, doc: str | None, steps: list[Any]
    ) -> None:
        self._kit_id, self._report, self._steps = kit_id, report, steps
        self._lock = threading.Lock()
        self._count = 0
        self.__name__ = self.__qualname__ = name
        self.__doc__ = doc
        self.__module__ = "grader_kit"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:  # the harness gets the records in the order the steps were given
            step = self._steps[min(self._count, len(self._steps) - 1)]
            self._count += 1
            self._report(self._kit_id, args, kwargs)
        if step[0] == "raise":
            raise step[1](step[2])
        return step[1]

    def __repr__(self) -> str:
        return f"<kit callable {self.__name__}>"


class KitClock(KitStandIn):
    """A fake clock: reading it returns the copy of the harness's current time."""

    def __init__(self, kit_id: int, now: float) -> None:
        self._kit_id, self.now = kit_id, float(now)

    def __call__(self) -> float:
        return self.now

    def __repr__(self) -> str:
        return "<kit clock>"


class KitSleep(KitStandIn):
    """A fake sleep: moves its clock's copy at once (as the harness will move the clock, so
    every thread sees the new time as in the harness's own process), then reports the sleep
    to the harness, which records it."""

    def __init__(self, kit_id: int, reverse: Reverse, clock: KitClock) -> None:
        self._kit_id, self._reverse, self._clock = kit_id, reverse, clock
        self.__name__ = self.__qualname__ = "sleep"
        self.__module__ = "grader_kit"

    def __call__(self, seconds: float) -> None:
        if type(seconds) not in (int, float):
            raise TypeError("sleep length must be a number")
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        self._clock.now += float(seconds)
        try:
            self._reverse(self._kit_id, "__call__", (seconds,), {})
        except BaseException:
            self._clock.now -= float(seconds)
            raise

    def __repr__(self) -> str:
        return "<kit sleep>"


class KitKey(KitStandIn):
    """A counting key: its value stays in the harness, which counts every comparison and hash."""

    def __init__(self, kit_id: int, reverse: Reverse) -> None:
        self._kit_id, self._reverse = kit_id, reverse

    def _ask(self, method: str, other: Any) -> Any:
        return self._reverse(self._kit_id, method, (other,), {})

    def __eq__(self, other: object) -> Any:
        return self._ask("__eq__", other)

    def __ne__(self, other: object) -> Any:
        return self._ask("__ne__", other)

    def __lt__(self, other: object) -> Any:
        return self._ask("__lt__", other)

    def __le__(self, other: object) -> Any:
        return self._ask("__le__", other)

    def __gt__(self, other: object) -> Any:
        return self._ask("__gt__", other)

    def __ge__(self, other: object) -> Any:
        return self._ask("__ge__", other)

    def __hash__(self) -> int:
        value = self._reverse(self._kit_id, "__hash__", (), {})
        if type(value) is not int:
            raise TypeError("a kit key's hash must be an int")
        return value

    def __repr__(self) -> str:
        return f"<kit key #{self._kit_id}>"


def exception_class(kit_id: int, name: str, base: type[BaseException]) -> type[BaseException]:
    """The local class for a kit exception class (made once per kit id by the caller)."""
    if not name.isidentifier():
        name = "KitError"
    return type(name, (base,), {"__module__": "grader_kit", "_kit_id": kit_id})


def builtin_exception(name: str) -> type[BaseException]:
    """A builtin exception class by name, ``Exception`` for anything else."""
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        return cls
    return Exception
