"""Fixtures of the job queue tests: a controllable clock and throw-away handlers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest

from jifen.jobs import registry

T0 = dt.datetime(2025, 6, 2, 2, 0, tzinfo=dt.UTC)


class Clock:
    """A clock the test moves by hand (``clock.advance(seconds=30)``)."""

    def __init__(self, start: dt.datetime = T0) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def register() -> Iterator[Callable[[str, Callable], Callable]]:
    """``register(kind, function)``: a handler that exists for this test only."""
    kinds: list[str] = []

    def add(kind: str, function: Callable) -> Callable:
        registry.handler(kind)(function)
        kinds.append(kind)
        return function

    yield add
    for kind in kinds:
        registry.unregister(kind)
