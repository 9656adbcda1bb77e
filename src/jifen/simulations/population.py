"""The current population from the database, as the bulk path's columns.

Two streamed queries in resident order — residents (id, birth date, town) and their current
facts — merged resident by resident; each resident's profile is built by
``jifen.facts.profile.build_profile`` (the same function the stored scores use, so the bulk
figures and a stored score agree) and added to a :class:`~jifen.scores.bulk.PopulationBuilder`.
On PostgreSQL both queries are server-side cursors read in chunks, so memory holds the columns,
not the rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import namedtuple
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connection, transaction

from jifen.facts.models import Fact
from jifen.facts.profile import build_profile
from jifen.org.models import Town
from jifen.residents.models import Resident
from jifen.scores.bulk import Population, PopulationBuilder

FETCH = 20_000
_FactRow = namedtuple(
    "_FactRow", ("resident_id", "id", "kind", "code", "level", "quantity", "date", "until", "act")
)
_ResidentRow = namedtuple("_ResidentRow", ("pk", "birth_date"))


@dataclass(frozen=True, eq=False)
class LoadedPopulation:
    """The columns, and per row the resident's id (16 bytes) and town index."""

    population: Population
    ids: np.ndarray  # dtype "S16"
    towns: np.ndarray  # index into town_codes, -1 for none
    town_codes: tuple[str, ...]
    town_names: dict[str, str]

    def row_of(self) -> dict[uuid.UUID, int]:
        return {uuid.UUID(bytes=bytes(b)): i for i, b in enumerate(self.ids)}


def _stream(sql: str, params: Sequence[Any], fetch: int) -> Iterator[tuple]:
    cursor = connection.chunked_cursor()
    try:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(fetch)
            if not rows:
                return
            yield from rows
    finally:
        cursor.close()


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def load_population(
    *, ids_sql: str = "", params: Sequence[Any] = (), fetch: int = FETCH
) -> LoadedPopulation:
    """Every resident (or those whose id ``ids_sql``, a SQL query of resident ids, returns)
    with their current facts."""
    towns = list(Town.objects.order_by("code").values_list("pk", "code", "name"))
    town_index = {pk: i for i, (pk, _c, _n) in enumerate(towns)}
    residents = Resident._meta.db_table
    facts = Fact._meta.db_table
    sqlite = connection.vendor == "sqlite"
    resident_filter = f"WHERE id IN ({ids_sql})" if ids_sql else ""
    fact_filter = f"AND resident_id IN ({ids_sql})" if ids_sql else ""
    builder = PopulationBuilder()
    ids = bytearray()
    town_rows: list[int] = []
    # Table names and the caller's id query only; values are parameters.
    resident_sql = f"SELECT id, birth_date, town_id FROM {residents} {resident_filter} ORDER BY id"  # noqa: S608
    fact_sql = (
        "SELECT resident_id, id, kind, code, level, quantity, date, until, act "  # noqa: S608
        f"FROM {facts} WHERE superseded_at IS NULL {fact_filter} ORDER BY resident_id, id"
    )
    with transaction.atomic():
        resident_rows = _stream(resident_sql, params, fetch)
        fact_rows = _stream(fact_sql, params, fetch)
        pending = next(fact_rows, None)
        for resident_id, birth_date, town_id in resident_rows:
            mine = []
            while pending is not None and pending[0] < resident_id:
                pending = next(fact_rows, None)  # a resident outside the filter
            while pending is not None and pending[0] == resident_id:
                mine.append(pending)
                pending = next(fact_rows, None)
            if sqlite:
                mine = [
                    (
                        r[0],
                        r[1],
                        r[2],
                        r[3],
                        r[4],
                        None if r[5] is None else Decimal(str(r[5])),
                        _date(r[6]),
                        _date(r[7]),
                        r[8],
                    )
                    for r in mine
                ]
                birth_date = _date(birth_date)
            profile, _used = build_profile(
                _ResidentRow(resident_id, birth_date), map(_FactRow._make, mine)
            )
            builder.add(profile)
            ids += _uuid(resident_id).bytes
            town_rows.append(town_index.get(town_id, -1))
    return LoadedPopulation(
        population=builder.build(),
        ids=np.frombuffer(bytes(ids), dtype="S16") if ids else np.zeros(0, "S16"),
        towns=np.array(town_rows, np.int64),
        town_codes=tuple(code for _pk, code, _n in towns),
        town_names={code: name for _pk, code, name in towns},
    )
