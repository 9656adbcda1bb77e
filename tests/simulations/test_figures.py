"""The simulation's figures equal a direct recomputation: every resident scored one by one
with ``jifen.engine.evaluate`` (profiles built from their current facts) before and after
the draft, then counted, banded, grouped by town and item, and ranked by hand."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from jifen.engine import evaluate
from jifen.facts.models import Fact
from jifen.facts.profile import build_profile
from jifen.scenarios.models import Enrollment, EnrollmentStatus
from jifen.simulations.services import compute_figures, selections
from tests.rankings.conftest import OPEN_FROM
from tests.simulations.conftest import ON

pytestmark = pytest.mark.django_db


def _h(value) -> int:
    return int(Decimal(str(value)) * 100)


def direct(residents, on, review, selection):
    """resident id → engine result (as_dict), one resident at a time."""
    out = {}
    for resident in residents:
        facts = Fact.objects.filter(resident=resident).current()
        profile, _ids = build_profile(resident, facts)
        out[resident.pk] = evaluate(profile, on, review, selection).as_dict()
    return out


def items_of(result) -> dict[str, int]:
    items = {f"provincial.{k}": _h(v) for k, v in result["provincial"]["items"].items()}
    items.update({f"city.{k}": _h(v) for k, v in result["city"]["items"].items()})
    items["deductions"] = -_h(result["deductions"]["total"])
    return items


def test_population_figures_match_a_direct_recomputation(residents, draft):
    before, after = selections(draft, ON)
    figures = compute_figures(draft, on=ON)
    first = direct(residents, ON, ON, before)
    second = direct(residents, ON, ON, after)
    deltas = {r.pk: _h(second[r.pk]["total"]) - _h(first[r.pk]["total"]) for r in residents}

    assert figures["residents"] == figures["scored"] == len(residents)
    summary = figures["summary"]
    assert summary["gain"] == sum(d > 0 for d in deltas.values())
    assert summary["lose"] == sum(d < 0 for d in deltas.values())
    assert summary["unchanged"] == sum(d == 0 for d in deltas.values())
    assert _h(summary["gain_points"]) == sum(d for d in deltas.values() if d > 0)
    assert _h(summary["loss_points"]) == -sum(d for d in deltas.values() if d < 0)
    # The change moves people both ways on this population (the test means something).
    assert summary["gain"] > 0 and summary["lose"] > 0

    width = figures["histogram"]["width"] * 100
    bands_before = Counter(_h(first[r.pk]["total"]) // width for r in residents)
    bands_after = Counter(_h(second[r.pk]["total"]) // width for r in residents)
    hist = figures["histogram"]
    assert {i: n for i, n in enumerate(hist["before"]) if n} == dict(bands_before)
    assert {i: n for i, n in enumerate(hist["after"]) if n} == dict(bands_after)
    assert sum(hist["before"]) == sum(hist["after"]) == len(residents)

    by_town = {line["town"]: line for line in figures["by_town"]}
    towns = defaultdict(list)
    for r in residents:
        towns[r.town.code].append(deltas[r.pk])
    assert set(by_town) == set(towns)
    for code, values in towns.items():
        assert by_town[code]["residents"] == len(values)
        assert by_town[code]["gain"] == sum(d > 0 for d in values)
        assert by_town[code]["lose"] == sum(d < 0 for d in values)
        assert _h(by_town[code]["net_points"]) == sum(values)

    by_item = {line["item"]: line for line in figures["by_item"]}
    for name, line in by_item.items():
        changes = [
            items_of(second[r.pk]).get(name, 0) - items_of(first[r.pk]).get(name, 0)
            for r in residents
        ]
        assert line["gain"] == sum(c > 0 for c in changes), name
        assert line["lose"] == sum(c < 0 for c in changes), name
        assert _h(line["net_points"]) == sum(changes), name
    assert by_item["city.residence"]["gain"] > 0


def test_scenario_figures_match_a_direct_ranking(residents, draft, define, center):
    """Enrollments of a scenario with a threshold and a few places: who crosses the threshold
    and who enters or leaves the admitted places, against a ranking done by hand. The
    threshold and the number of places are chosen from the direct results so that the
    change moves someone across each."""
    day = OPEN_FROM.date()
    before, after = selections(draft, day)
    first = direct(residents, day, day, before)
    second = direct(residents, day, day, after)
    number = {r.pk: f"YY2025{i:06d}" for i, r in enumerate(residents)}
    loser = next(r for r in residents if _h(second[r.pk]["total"]) < _h(first[r.pk]["total"]))
    threshold = _h(first[loser.pk]["total"])  # the loser falls below it

    def ranked(results, places):
        eligible = [r for r in residents if _h(results[r.pk]["total"]) >= threshold]
        eligible.sort(
            key=lambda r: (
                -_h(results[r.pk]["total"]),
                -_h(results[r.pk]["provincial"]["total"]),
                -_h(results[r.pk]["city"]["bonus_total"]),
                number[r.pk],  # applied in number order
            )
        )
        return {number[r.pk] for r in eligible[:places]}, {number[r.pk] for r in eligible}

    places = next(
        p for p in range(1, len(residents)) if ranked(first, p)[0] != ranked(second, p)[0]
    )
    version = define(
        eligibility={"min_total": f"{threshold / 100:.2f}"},
        quotas=[{"key": "school:all", "label": "全市", "places": places, "town": None}],
    )
    assert version.evaluation_date == version.review_date == day
    for i, resident in enumerate(residents):
        Enrollment.objects.create(
            number=number[resident.pk],
            scenario=version.scenario,
            version=version,
            resident=resident,
            submitted_by=center,
            applied_at=OPEN_FROM + dt.timedelta(minutes=i),
            status=EnrollmentStatus.SUBMITTED,
            updated_at=OPEN_FROM,
        )
    figures = compute_figures(draft, on=ON, scenario_version=version)
    scenario = figures["scenario"]
    admitted_before, eligible_before = ranked(first, places)
    admitted_after, eligible_after = ranked(second, places)
    assert scenario["enrollments"] == len(residents)
    assert scenario["places"] == places
    assert scenario["eligible_before"] == len(eligible_before)
    assert scenario["eligible_after"] == len(eligible_after)
    assert {x["number"] for x in scenario["crossed_up"]} == eligible_after - eligible_before
    assert {x["number"] for x in scenario["crossed_down"]} == eligible_before - eligible_after
    assert number[loser.pk] in {x["number"] for x in scenario["crossed_down"]}
    assert {x["number"] for x in scenario["entering"]} == admitted_after - admitted_before
    assert {x["number"] for x in scenario["leaving"]} == admitted_before - admitted_after
    assert scenario["entering_count"] + scenario["leaving_count"] > 0
    assert scenario["admitted_before"] == len(admitted_before)
    assert scenario["admitted_after"] == len(admitted_after)
    # Threshold crossings over the whole population (on the simulation date, total basis).
    pop_first = direct(residents, ON, ON, selections(draft, ON)[0])
    pop_second = direct(residents, ON, ON, selections(draft, ON)[1])
    up = sum(
        _h(pop_first[r.pk]["total"]) < threshold <= _h(pop_second[r.pk]["total"]) for r in residents
    )
    down = sum(
        _h(pop_second[r.pk]["total"]) < threshold <= _h(pop_first[r.pk]["total"]) for r in residents
    )
    assert figures["threshold"]["crossed_up"] == up
    assert figures["threshold"]["crossed_down"] == down
