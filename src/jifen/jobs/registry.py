"""Job handlers by kind: ``@handler("scores.recompute")`` on a function of a JobContext;
``@periodic("claims.remind", every=timedelta(hours=1))`` for one that also runs on a schedule.

Apps register handlers in a ``handlers`` module (``jifen/scores/handlers.py``); the jobs app
imports every installed app's ``handlers`` module when Django starts (:func:`autodiscover`),
so a worker knows every kind and :func:`jifen.jobs.queue.enqueue` refuses unknown ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.module_loading import autodiscover_modules

from jifen.jobs.errors import DuplicateJobKind, UnknownJobKind

if TYPE_CHECKING:
    from jifen.jobs.worker import JobContext

#: A handler gets the running job's context and returns a JSON-ready summary (or None).
Handler = Callable[["JobContext"], dict[str, Any] | None]

_handlers: dict[str, Handler] = {}


@dataclass(frozen=True)
class Schedule:
    """When a periodic kind runs: every ``every``, slots counted from ``offset`` past
    midnight UTC of 2000-01-01 (so ``every=1 day, offset=-8 h`` is midnight in China)."""

    every: dt.timedelta
    offset: dt.timedelta = dt.timedelta(0)


_periodic: dict[str, Schedule] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of ``kind``."""

    def register(function: Handler) -> Handler:
        known = _handlers.get(kind)
        if known is not None and _name(known) != _name(function):
            raise DuplicateJobKind(f"job kind {kind!r} is handled by {_name(known)} already")
        _handlers[kind] = function
        return function

    return register


def _name(function: Handler) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def periodic(
    kind: str, *, every: dt.timedelta, offset: dt.timedelta = dt.timedelta(0)
) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of ``kind`` and run it every ``every``.

    ``jifen worker`` enqueues one job per slot (``{"slot": "<ISO start of the slot>"}``),
    once across all workers; a slot missed while no worker ran is not made up.
    """
    if every < dt.timedelta(seconds=1):
        raise ValueError("a periodic job runs at most once a second")

    def register(function: Handler) -> Handler:
        handler(kind)(function)
        _periodic[kind] = Schedule(every=every, offset=offset)
        return function

    return register


def periodic_kinds() -> dict[str, Schedule]:
    """The periodic kinds and their schedules."""
    return dict(_periodic)


def get_handler(kind: str) -> Handler:
    try:
        return _handlers[kind]
    except KeyError:
        known = ", ".join(sorted(_handlers)) or "none"
        raise UnknownJobKind(f"no handler for job kind {kind!r} (known: {known})") from None


def kinds() -> list[str]:
    """The registered kinds, sorted."""
    return sorted(_handlers)


def unregister(kind: str) -> None:
    """Forget a kind (for tests that register throw-away handlers)."""
    _handlers.pop(kind, None)
    _periodic.pop(kind, None)


def autodiscover() -> None:
    """Import the ``handlers`` module of every installed app."""
    autodiscover_modules("handlers")
