"""Job handlers by kind: ``@handler("scores.recompute")`` on a function of a JobContext.

Apps register handlers in a ``handlers`` module (``jifen/scores/handlers.py``); the jobs app
imports every installed app's ``handlers`` module when Django starts (:func:`autodiscover`),
so a worker knows every kind and :func:`jifen.jobs.queue.enqueue` refuses unknown ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.utils.module_loading import autodiscover_modules

from jifen.jobs.errors import DuplicateJobKind, UnknownJobKind

if TYPE_CHECKING:
    from jifen.jobs.worker import JobContext

#: A handler gets the running job's context and returns a JSON-ready summary (or None).
Handler = Callable[["JobContext"], dict[str, Any] | None]

_handlers: dict[str, Handler] = {}


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


def autodiscover() -> None:
    """Import the ``handlers`` module of every installed app."""
    autodiscover_modules("handlers")
