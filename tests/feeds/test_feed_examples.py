"""Every example of docs/feeds/ imports cleanly, and its CSV and JSON give the same facts."""

from __future__ import annotations

import pytest

from jifen.facts.models import Fact
from jifen.feeds import docgen
from jifen.feeds.formats import FEEDS
from jifen.residents.models import Resident
from jifen.scores.policies import current_policies


@pytest.mark.parametrize("code", sorted(FEEDS))
def test_the_examples_import_without_rejections(code, run_import, resident_factory):
    feed = FEEDS[code]
    selection = docgen.documented_selection(current_policies())
    rows = docgen.example_rows(feed, selection)
    registered = {row["identity_number"] for row in rows if "name" in row}
    for number, name, town in docgen.EXAMPLE_RESIDENTS:
        if number not in registered:
            resident_factory(identity_number=number, name=name, town=town)

    csv_batch = run_import(code, docgen.example_csv(feed, rows), file_name=f"{code}.csv")
    assert csv_batch.rejected == 0, csv_batch.report
    assert csv_batch.accepted == len(rows)
    assert csv_batch.registered == len(registered)
    facts = sorted(Fact.objects.values_list("resident", "key", "code", "level", "quantity", "date"))

    json_batch = run_import(code, docgen.example_json(rows), file_name=f"{code}.json")
    assert json_batch.rejected == 0, json_batch.report
    assert json_batch.unchanged == len(rows)
    assert (
        sorted(Fact.objects.values_list("resident", "key", "code", "level", "quantity", "date"))
        == facts
    )
    assert Resident.objects.count() == len(docgen.EXAMPLE_RESIDENTS)
