"""The current population from the database, straight into the bulk path's columns.

Four streamed queries — residents (row number, birth date, town) and their current
provincial facts, city facts and deductions, each joined to the resident's row number — are
turned into the columns of a :class:`~jifen.scores.bulk.Population` with numpy, without
building a profile per resident: a million residents and ten million facts load in seconds
where building and parsing a million profiles would take minutes.

The columns mean exactly what ``jifen.facts.profile.build_profile`` followed by
``PopulationBuilder.add`` would give (the simulation tests compare the figures with the single
engine on profiles built that way): a single-valued provincial field takes its latest fact
(highest id), a missing birth date fact falls back to the resident's birth date, a skill is
any skill fact, city facts keep their rule, level, quantity (hundredths) and date, and
deductions of the same act of one resident form one group (a deduction without an act is an
act of its own).

A resident whose facts the engine's profile parser would refuse (a provincial field it does
not know, months that are not whole, a deduction without a date, a listing ending before it
started, a negative quantity) is not loaded: their row stays empty and ``refused`` says why.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection, transaction

from jifen.engine.profile import MAX_QUANTITY
from jifen.facts.models import Fact
from jifen.org.models import Town
from jifen.residents.models import Resident
from jifen.scores.bulk import Population
from jifen.scores.bulk.population import NO_DATE, NONE

FETCH = 50_000
_DATES = ("birth_date", "residence_registered_on")
_MONTHS = ("social_insurance_months", "residence_months")


@dataclass(frozen=True, eq=False)
class LoadedPopulation:
    """The columns; per row the resident's id (16 bytes) and town index; the refused rows."""

    population: Population
    ids: np.ndarray  # dtype "V16"
    towns: np.ndarray  # index into town_codes, -1 for none
    town_codes: tuple[str, ...]
    town_names: dict[str, str]
    refused: np.ndarray  # bool per row
    reasons: dict[str, int] = field(default_factory=dict)

    def row_of(self) -> dict[uuid.UUID, int]:
        return {uuid.UUID(bytes=self.ids[i].tobytes()): i for i in range(self.ids.size)}


def _stream(sql: str, params: Sequence[Any], fetch: int) -> Iterator[list[tuple]]:
    cursor = connection.chunked_cursor()
    try:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(fetch)
            if not rows:
                return
            yield rows
    finally:
        cursor.close()


def _columns(sql: str, params: Sequence[Any], fetch: int, width: int) -> list[list[Any]]:
    out: list[list[Any]] = [[] for _ in range(width)]
    for rows in _stream(sql, params, fetch):
        for column, values in zip(out, zip(*rows, strict=True), strict=True):
            column.extend(values)
    return out


def _fetch_one(sql: str, params: Sequence[Any], fetch: int, width: int) -> list[list[Any]]:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '256MB'")
        return _columns(sql, params, fetch, width)


def _in_thread(sql: str, params: Sequence[Any], fetch: int, width: int) -> list[list[Any]]:
    try:
        return _fetch_one(sql, params, fetch, width)
    finally:
        connection.close()  # this thread's own connection


def _fetch_all(
    queries: list[tuple[str, int]], params: Sequence[Any], fetch: int
) -> list[list[list[Any]]]:
    """The columns of each query. On PostgreSQL, outside a transaction (a job, the bench),
    the fact queries run on connections of their own, so the database produces rows while
    this process converts others (each query sees its own snapshot: a simulation is a
    statistic, not a stored score). Inside a transaction (the tests) they run in order."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return [_fetch_one(sql, params, fetch, width) for sql, width in queries]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(queries) - 1) as pool:
        futures = [pool.submit(_in_thread, sql, params, fetch, w) for sql, w in queries[1:]]
        first = _fetch_one(queries[0][0], params, fetch, queries[0][1])
        return [first, *(f.result() for f in futures)]


#: "None" in the integer columns the queries return (dates, hundredths); far from any value.
_NULL = -(2**40)


def _days(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"COALESCE({column} - DATE '1970-01-01', {_NULL})"
    return f"COALESCE(CAST(julianday({column}) - 2440587.5 AS INTEGER), {_NULL})"


def _hundredths(column: str) -> str:
    return f"COALESCE(CAST(ROUND({column} * 100) AS BIGINT), {_NULL})"


def _ints(values: list[Any], none: int) -> np.ndarray:
    array = np.array(values, np.int64)
    array[array == _NULL] = none
    return array


class _Vocabulary(dict):
    def __missing__(self, code: str) -> int:
        self[code] = index = len(self)
        return index

    def codes(self) -> tuple[str, ...]:
        return tuple(self)


def _last_per_row(rows: np.ndarray) -> np.ndarray:
    """Positions of the last entry of each run of equal ``rows`` (sorted)."""
    if rows.size == 0:
        return rows
    return np.flatnonzero(np.append(rows[1:] != rows[:-1], True))


def load_population(
    *, ids_sql: str = "", params: Sequence[Any] = (), fetch: int = FETCH
) -> LoadedPopulation:
    """Every resident (or those whose id ``ids_sql``, a SQL query of resident ids, returns)
    with their current facts."""
    towns = list(Town.objects.order_by("code").values_list("pk", "code", "name"))
    town_index = {pk: i for i, (pk, _c, _n) in enumerate(towns)}
    residents_table = Resident._meta.db_table
    facts_table = Fact._meta.db_table
    where = f"WHERE id IN ({ids_sql})" if ids_sql else ""
    # Row numbers in id order.
    # S608: table names (model _meta) and the caller's id query only; values are parameters.
    numbered = f"SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS n FROM {residents_table} {where}"  # noqa: S608

    def facts(columns: str, kind: str) -> str:
        return (
            # S608: table names (model _meta), the query above, columns and kinds of this module.
            f"SELECT r.n, {columns} FROM {facts_table} f JOIN ({numbered}) r "  # noqa: S608
            f"ON r.id = f.resident_id WHERE f.superseded_at IS NULL AND f.kind = '{kind}'"
        )

    queries = [
        (
            # S608: the table name (model _meta), a column expression and the id query above.
            f"SELECT id, {_days('birth_date')}, town_id FROM {residents_table} {where} "  # noqa: S608
            "ORDER BY id",
            3,
        ),
        (
            facts(
                f"f.id, f.code, f.level, {_hundredths('f.quantity')}, {_days('f.date')}",
                "provincial",
            ),
            6,
        ),
        (facts(f"f.code, f.level, {_hundredths('f.quantity')}, {_days('f.date')}", "city"), 5),
        (facts(f"f.id, f.code, f.act, {_days('f.date')}, {_days('f.until')}", "deduction"), 6),
    ]
    (ids, births, town_ids), provincial, city, deductions = _fetch_all(queries, params, fetch)
    n = len(ids)
    refused = np.zeros(n, bool)
    reasons: dict[str, int] = {}

    def refuse(mask_rows: np.ndarray, reason: str) -> None:
        fresh = np.unique(mask_rows)
        fresh = fresh[~refused[fresh]]
        if fresh.size:
            refused[fresh] = True
            reasons[reason] = reasons.get(reason, 0) + int(fresh.size)

    codes = _Vocabulary()
    columns = _provincial(provincial, n, births, codes, refuse)
    rules, levels = _Vocabulary(), _Vocabulary()
    city_columns = _city(city, rules, levels, refuse)
    deduction_codes = _Vocabulary()
    deduction_columns = _deductions(deductions, deduction_codes, refuse)
    population = Population(
        size=n,
        codes=codes.codes(),
        rules=rules.codes(),
        levels=levels.codes(),
        deduction_codes=deduction_codes.codes(),
        **columns,
        **city_columns,
        **deduction_columns,
    )
    if refused.any():
        from jifen.simulations.simulation import without

        population = without(population, refused)
    return LoadedPopulation(
        population=population,
        ids=np.frombuffer(b"".join(_uuid(i).bytes for i in ids), dtype="V16"),
        towns=np.array([town_index.get(t, -1) for t in town_ids], np.int64),
        town_codes=tuple(code for _pk, code, _n in towns),
        town_names={code: name for _pk, code, name in towns},
        refused=refused,
        reasons=reasons,
    )


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _provincial(columns, n, births, codes, refuse) -> dict[str, np.ndarray]:
    rows, ids, code, level, quantity, date = columns
    rows = np.array(rows, np.int64)
    order = np.lexsort((np.array(ids, np.int64), rows))
    rows = rows[order]
    code_names = _Vocabulary()
    code_index = np.array([code_names[c] for c in code], np.int64)[order]
    quantity = _ints(quantity, NONE)[order]
    date = _ints(date, NO_DATE)[order]
    level = [level[i] for i in order]
    out = {
        "birth_date": _ints(births, NO_DATE),
        "residence_registered_on": np.full(n, NO_DATE, np.int64),
        "social_insurance_months": np.full(n, NONE, np.int64),
        "residence_months": np.full(n, NONE, np.int64),
        "education": np.full(n, NONE, np.int64),
    }
    skill_resident = np.zeros(0, np.int64)
    skill_code = np.zeros(0, np.int64)
    for name, index in code_names.items():
        at = np.flatnonzero(code_index == index)
        mine = rows[at]
        if name == "skills":
            skill_resident = mine
            skill_code = np.array([codes[level[i]] for i in at], np.int64)
            continue
        last = at[_last_per_row(mine)]
        target = rows[last]
        if name in _DATES:
            out[name][target] = date[last]
        elif name in _MONTHS:
            value = quantity[last]
            bad = (value != NONE) & (
                (value < 0) | (value % 100 != 0) | (value > MAX_QUANTITY * 100)
            )
            refuse(target[bad], f"{name}: must be a whole number of months")
            out[name][target] = np.where(value == NONE, NONE, value // 100)
        elif name == "education":
            out[name][target] = [codes[level[i]] if level[i] else NONE for i in last]
        else:
            refuse(target, f"{name}: unknown key")
    return {**out, "skill_resident": skill_resident, "skill_code": skill_code}


def _city(columns, rules, levels, refuse) -> dict[str, np.ndarray]:
    rows, code, level, quantity, date = columns
    rows = np.array(rows, np.int64)
    order = np.argsort(rows, kind="stable")
    quantity = _ints(quantity, NONE)[order]
    bad = (quantity < NONE) | (quantity > MAX_QUANTITY * 100)
    refuse(rows[order][bad], "city.quantity: must not be negative")
    return {
        "city_resident": rows[order],
        "city_rule": np.array([rules[c] for c in code], np.int64)[order],
        "city_level": np.array([levels[v] if v else NONE for v in level], np.int64)[order],
        "city_quantity": np.maximum(quantity, NONE),
        "city_date": _ints(date, NO_DATE)[order],
    }


def _deductions(columns, deduction_codes, refuse) -> dict[str, np.ndarray]:
    rows, ids, code, act, date, until = columns
    rows_a = np.array(rows, np.int64)
    order = np.lexsort((np.array(ids, np.int64), rows_a))
    groups: list[int] = []
    group_resident: list[int] = []
    current_row, acts = -1, {}
    for i in order:
        row = rows[i]
        if row != current_row:
            current_row, acts = row, {}
        name = act[i]
        group = acts.get(name) if name else None
        if group is None:
            group = len(group_resident)
            group_resident.append(row)
            if name:
                acts[name] = group
        groups.append(group)
    date_a = _ints(date, NO_DATE)[order]
    until_a = _ints(until, NO_DATE)[order]
    refuse(rows_a[order][date_a == NO_DATE], "deductions.date: missing")
    refuse(
        rows_a[order][(until_a != NO_DATE) & (until_a < date_a)],
        "deductions.until: is before the listing date",
    )
    return {
        "deduction_resident": rows_a[order],
        "deduction_code": np.array([deduction_codes[c] for c in code], np.int64)[order],
        "deduction_group": np.array(groups, np.int64),
        "deduction_date": date_a,
        "deduction_until": until_a,
        "group_resident": np.array(group_resident, np.int64),
    }
