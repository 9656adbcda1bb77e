"""The ranking engine over plain data: order, tie-breaks, allocation, cut-off, hash."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jifen.rankings import engine

TIES = ["provincial_total", "city_bonus_total", "applied_at"]


def entry(number, points, provincial="0", city="0", at="2025-09-01T01:00:00.000000Z", **kw):
    return {
        "number": number,
        "enrollment": f"e-{number}",
        "score": None,
        "points": points,
        "ties": [provincial, city, at],
        "preferences": kw.get("preferences", []),
        "town": kw.get("town", "wutong"),
    }


def inputs(entries, *, quotas=None, tie_breaks=TIES, preferences=None):
    return engine.make_inputs(
        scenario="school",
        version=1,
        version_hash="h" * 64,
        tie_breaks=tie_breaks,
        quotas=quotas or [{"key": "a", "label": "A", "places": 2, "town": None}],
        preferences=preferences,
        entries=entries,
    )


def numbers(result):
    return [e.number for e in result.entries]


def test_points_then_tie_breaks_in_configured_order_then_time_then_number():
    rows = [
        entry("YY05", "60", provincial="40", city="20"),
        entry("YY04", "60", provincial="40", city="21"),  # higher city bonus
        entry("YY03", "60", provincial="41", city="19"),  # higher provincial: first of 60s
        entry("YY02", "60", provincial="40", city="20", at="2025-09-01T00:59:59.000000Z"),
        entry("YY01", "61"),
        entry("YY06", "60", provincial="40", city="20"),  # all equal to YY05: number decides
    ]
    result = engine.rank(inputs(rows))
    assert numbers(result) == ["YY01", "YY03", "YY04", "YY02", "YY05", "YY06"]
    assert [e.rank for e in result.entries] == [1, 2, 3, 4, 5, 6]

    # The same entries with the tie-breaks configured the other way round.
    swapped = ["city_bonus_total", "provincial_total", "applied_at"]
    rows2 = [{**r, "ties": [r["ties"][1], r["ties"][0], r["ties"][2]]} for r in rows]
    result = engine.rank(inputs(rows2, tie_breaks=swapped))
    assert numbers(result) == ["YY01", "YY04", "YY02", "YY05", "YY06", "YY03"]


def test_deductions_total_ranks_fewer_deductions_first():
    rows = [
        {**entry("YY1", "50"), "ties": ["10.00", "2025-09-01T01:00:00.000000Z"]},
        {**entry("YY2", "50"), "ties": ["2.00", "2025-09-01T01:00:00.000000Z"]},
        {**entry("YY3", "50"), "ties": ["-0", "2025-09-01T01:00:00.000000Z"]},
    ]
    result = engine.rank(inputs(rows, tie_breaks=["deductions_total", "applied_at"]))
    assert numbers(result) == ["YY3", "YY2", "YY1"]


def test_cutoff_points_and_the_deciding_tie_break():
    rows = [
        entry("YY1", "70"),
        entry("YY2", "60", provincial="45", city="15"),
        entry("YY3", "60", provincial="44", city="16"),
        entry("YY4", "50"),
    ]
    result = engine.rank(inputs(rows))
    assert [e.status for e in result.entries] == [
        "admitted",
        "admitted",
        "waitlisted",
        "waitlisted",
    ]
    assert result.cutoff_points == "60.00"
    assert result.cutoff_tiebreak["key"] == "provincial_total"
    assert result.cutoff_tiebreak["value"] == "45.00"
    assert result.quota_cutoffs["a"]["number"] == "YY2"
    assert result.filled == {"a": 2}

    # Points alone decided: no deciding tie-break.
    rows[2] = entry("YY3", "59")
    result = engine.rank(inputs(rows))
    assert result.cutoff_points == "60.00"
    assert result.cutoff_tiebreak["key"] is None
    assert result.cutoff_tiebreak["values"]["provincial_total"] == "45.00"


def test_allocation_first_free_preference_in_rank_order_and_town_quotas():
    quotas = [
        {"key": "s1", "label": "一小", "places": 1, "town": None},
        {"key": "s2", "label": "二小", "places": 1, "town": None},
        {"key": "s3", "label": "三小", "places": 1, "town": "fengming"},
    ]
    rows = [
        entry("YY1", "90", preferences=["s1", "s2"]),
        entry("YY2", "80", preferences=["s1", "s2"]),  # s1 full: s2
        entry("YY3", "70", preferences=["s1", "s2", "s3"]),  # s3 is another town's
        entry("YY4", "60", preferences=["s3"], town="fengming"),
        entry("YY5", "50", preferences=["s1"]),
    ]
    result = engine.rank(inputs(rows, quotas=quotas, preferences={"max": 3}))
    assert [(e.number, e.quota) for e in result.entries] == [
        ("YY1", "s1"),
        ("YY2", "s2"),
        ("YY3", None),
        ("YY4", "s3"),
        ("YY5", None),
    ]
    assert result.cutoff_points == "60.00"


def test_same_inputs_same_hash_whatever_the_order_and_any_change_changes_it():
    rows = [entry(f"YY{i:03d}", str(50 + i % 7), provincial=str(i % 5)) for i in range(40)]
    first = engine.rank(inputs(rows))
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    second = engine.rank(inputs(shuffled))
    assert numbers(first) == numbers(second)
    assert first.hash == second.hash
    assert first.inputs_hash == second.inputs_hash
    changed = [dict(r) for r in rows]
    changed[0]["points"] = "49.99"
    assert engine.rank(inputs(changed)).hash != first.hash


def test_malformed_snapshots_are_refused():
    with pytest.raises(engine.RankingInputError):
        inputs([entry("YY1", "1"), entry("YY1", "2")])
    with pytest.raises(engine.RankingInputError):
        engine.rank(inputs([entry("YY1", "1", preferences=["nowhere"])]))
    with pytest.raises(engine.RankingInputError):
        engine.rank({**inputs([entry("YY1", "1")]), "algorithm": "other"})
    with pytest.raises(engine.RankingInputError):
        inputs([entry("YY1", "1.001")])


# --- properties -----------------------------------------------------------------------------

points = st.integers(min_value=0, max_value=300).map(lambda n: f"{n / 4:.2f}")
stamps = st.integers(min_value=0, max_value=5).map(lambda s: f"2025-09-01T01:00:0{s}.000000Z")
QUOTAS = [
    {"key": "s1", "label": "一小", "places": 2, "town": None},
    {"key": "s2", "label": "二小", "places": 1, "town": None},
    {"key": "s3", "label": "三小", "places": 2, "town": "fengming"},
]


@st.composite
def populations(draw):
    n = draw(st.integers(min_value=1, max_value=25))
    rows = []
    for i in range(n):
        prefs = draw(st.lists(st.sampled_from(["s1", "s2", "s3"]), unique=True, max_size=3))
        rows.append(
            {
                "number": f"YY{i:04d}",
                "enrollment": str(i),
                "score": None,
                "points": draw(points),
                "ties": [draw(points), draw(points), draw(stamps)],
                "preferences": prefs,
                "town": draw(st.sampled_from(["wutong", "fengming"])),
            }
        )
    return rows


def key(row, tie_breaks):
    parts = [-float(row.points)]
    for name, value in zip(tie_breaks, row.ties, strict=True):
        parts.append(value if name == "applied_at" else -float(value))
    return (*parts, row.number)


@settings(max_examples=150, deadline=None)
@given(populations(), st.permutations(TIES[:2]), st.randoms(use_true_random=False))
def test_properties_of_order_and_allocation(rows, first_two, rnd):
    tie_breaks = [*first_two, "applied_at"]
    snapshot = inputs(rows, quotas=QUOTAS, tie_breaks=tie_breaks, preferences={"max": 3})
    result = engine.rank(snapshot)

    # Order: exactly points desc, configured tie-breaks, applied_at asc, number.
    entries = result.entries
    assert all(key(a, tie_breaks) < key(b, tie_breaks) for a, b in itertools.pairwise(entries))

    # Shuffled input: the same list and hash.
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    again = engine.rank(
        inputs(shuffled, quotas=QUOTAS, tie_breaks=tie_breaks, preferences={"max": 3})
    )
    assert again.hash == result.hash and numbers(again) == numbers(result)

    # Allocation: capacities, listed preferences, towns, and no envy from above.
    by_row = {r["number"]: r for r in snapshot["entries"]}
    capacity = {q["key"]: q["places"] for q in QUOTAS}
    town_of = {q["key"]: q["town"] for q in QUOTAS}
    used = {k: 0 for k in capacity}
    for e in entries:
        row = by_row[e.number]
        allowed = row["preferences"] or list(capacity)
        if e.quota is not None:
            used[e.quota] += 1
            assert e.quota in allowed
            assert town_of[e.quota] in (None, row["town"])
        better = allowed if e.quota is None else allowed[: allowed.index(e.quota)]
        for wanted in better:
            if town_of[wanted] in (None, row["town"]):
                # a better choice was full when this entry's turn came
                assert (
                    sum(1 for x in entries[: e.rank - 1] if x.quota == wanted) == capacity[wanted]
                )
    assert all(used[k] <= capacity[k] for k in capacity)

    # Cancelling any admitted entry never takes a place from anyone else.
    admitted = [e for e in entries if e.quota is not None]
    if admitted:
        gone = rnd.choice(admitted).number
        after = engine.rank(snapshot, skip=frozenset({gone}))
        for before_e, after_e in zip(entries, after.entries, strict=True):
            if before_e.number == gone:
                assert after_e.status == engine.CANCELLED
            elif before_e.quota is not None:
                assert after_e.quota is not None
                prefs = by_row[before_e.number]["preferences"] or list(capacity)
                assert prefs.index(after_e.quota) <= prefs.index(before_e.quota)
