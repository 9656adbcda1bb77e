"""Row-level rejection: each reason names the row and the field; good rows are kept."""

from __future__ import annotations

import json

import pytest

from jifen.facts.models import Fact

HEADER = "identity_number,record_id,rule,level,quantity,date,until,act"
#: A valid identity number nobody in the test database has.
STRANGER = "110101199003074514"

# (feed, row cells after the identity number, field, code, words in the reason)
# (feed, row as (record_id, rule, level, quantity, date, until, act), field, code, words)
CASES = [
    ("hrss", ("R-1", "charity.unicorn", "", "", "", "", ""), "rule", "unknown_rule",
     "unknown rule"),
    ("hrss", ("R-1", "charity.blood_donation", "", "", "2024-05-01", "", ""), "rule",
     "not_this_department", "another department"),
    ("court", ("R-1", "administrative_detention", "", "", "2024-05-01", "", ""), "rule",
     "not_this_department", "court"),
    ("education", ("R-1", "education.degree", "bachelor", "", "", "", ""), "rule", "send_field",
     "rule=education"),
    ("hrss", ("R-1", "talent.talent_code", "D", "", "", "", ""), "level", "unknown_level",
     "one of: A, B, C"),
    ("hrss", ("R-1", "talent.talent_code", "", "", "", "", ""), "level", "missing", "A, B, C"),
    ("hrss", ("R-1", "skills", "vocational_level_9", "", "", "", ""), "level", "unknown_level",
     "vocational_level_1"),
    ("education", ("R-1", "education", "phd", "", "", "", ""), "level", "unknown_level",
     "bachelor"),
    ("hrss", ("R-1", "honours.skill_contest", "county", "", "", "", ""), "date", "missing",
     "last 5 years"),
    ("hrss", ("R-1", "honours.skill_contest", "county", "", "2024-02-30", "", ""), "date",
     "impossible_date", "2024-02-30"),
    ("hrss", ("R-1", "honours.skill_contest", "county", "", "2024/05/01", "", ""), "date",
     "bad_date", "YYYY-MM-DD"),
    ("hrss", ("R-1", "honours.skill_contest", "county", "", "2025-07-01", "", ""), "date",
     "future_date", "after the day of the import"),
    ("hrss", ("R-1", "pension_insurance.months", "", "-3", "", "", ""), "quantity",
     "negative_quantity", "negative"),
    ("hrss", ("R-1", "pension_insurance.months", "", "abc", "", "", ""), "quantity",
     "not_a_number", "not a number"),
    ("hrss", ("R-1", "pension_insurance.months", "", "", "", "", ""), "quantity", "missing",
     "missing"),
    ("hrss", ("R-1", "pension_insurance.months", "", "1.005", "", "", ""), "quantity",
     "too_precise", "two decimal places"),
    ("hrss", ("R-1", "social_insurance_months", "", "12.5", "", "", ""), "quantity", "not_whole",
     "whole number"),
    ("hrss", ("R-1", "employment.labour_contract", "", "1", "", "", ""), "quantity",
     "not_applicable", "takes no quantity"),
    ("hrss", ("R-1", "employment.labour_contract", "A", "", "", "", ""), "level",
     "not_applicable", "takes no level"),
    ("court", ("R-1", "usury", "", "", "2024-01-01", "2025-01-01", ""), "until",
     "not_applicable", "takes no until"),
    ("court", ("R-1", "dishonest_debtor", "", "", "2024-05-01", "2024-04-01", ""), "until",
     "until_before_date", "before its start"),
    ("court", ("R-1", "crime_other", "", "", "", "", ""), "date", "missing", "missing"),
    ("public_security", ("R-1", "birth_date", "", "", "1991-01-01", "", ""), "date",
     "birth_date_mismatch", "identity number"),
    ("hrss", ("", "skills", "title_junior", "", "", "", ""), "record_id", "missing", "missing"),
    ("hrss", ("R-1", "", "", "", "", "", ""), "rule", "missing", "missing"),
]  # fmt: skip


@pytest.mark.parametrize(("feed", "cells", "field", "code", "words"), CASES)
def test_a_bad_row_is_rejected_naming_row_and_field_and_good_rows_are_kept(
    run_import, resident_factory, feed, cells, field, code, words
):
    resident = resident_factory()
    good_rule = {
        "hrss": "R-0,employment.shortage_occupation,,,,,",
        "court": "R-0,crime_intentional,,,2024-01-01,,",
        "education": "R-0,upskilling.degree_upgrade,,,2024-01-01,,",
        "public_security": "R-0,residence_registered_on,,,2019-03-15,,",
    }[feed]
    number = resident.identity_number
    content = f"{HEADER}\n{number},{good_rule}\n{number},{','.join(cells)}\n"
    batch = run_import(feed, content)

    assert (batch.rows, batch.accepted, batch.rejected) == (2, 1, 1)
    good, bad = batch.report
    assert good["outcome"] == "accepted"
    assert (bad["row"], bad["outcome"], bad["field"], bad["code"]) == (2, "rejected", field, code)
    assert words in bad["reason"], bad["reason"]
    assert bad["reason_zh"]
    assert Fact.objects.filter(resident=resident).count() == 1


@pytest.mark.parametrize(
    ("identity", "code"),
    [
        (STRANGER, "unknown_resident"),
        ("110101199003074515", "invalid_identity_number"),
        ("11010119900307451", "invalid_identity_number"),
        ("", "missing"),
    ],
)
def test_identity_number_problems(run_import, resident_factory, identity, code):
    resident = resident_factory()
    batch = run_import(
        "hrss",
        f"{HEADER}\n{resident.identity_number},R-0,skills,title_junior,,,,\n"
        f"{identity},R-1,skills,title_junior,,,,\n",
    )
    assert (batch.accepted, batch.rejected) == (1, 1)
    bad = batch.report[1]
    assert (bad["row"], bad["field"], bad["code"]) == (2, "identity_number", code)
    if code == "unknown_resident":
        assert "unknown resident" in bad["reason"]


def test_the_same_record_twice_in_one_file_rejects_the_second(run_import, resident_factory):
    resident = resident_factory()
    n = resident.identity_number
    batch = run_import(
        "hrss",
        f"{HEADER}\n{n},P-1,pension_insurance.months,,24,,,\n{n},P-1,pension_insurance.months,,30,,,\n",
    )
    assert (batch.accepted, batch.rejected) == (1, 1)
    assert batch.report[1]["code"] == "duplicate_in_batch"
    assert "row 1" in batch.report[1]["reason"]
    assert Fact.objects.get(key="hrss:P-1").quantity == 24


def test_row_shape_problems_reject_only_that_row(run_import, resident_factory):
    resident = resident_factory()
    n = resident.identity_number
    batch = run_import("hrss", f"{HEADER}\n{n},P-1,skills,title_junior,,,,\n{n},P-2,skills\n")
    assert (batch.accepted, batch.rejected) == (1, 1)
    assert batch.report[1]["code"] == "wrong_field_count"

    rows = [
        {"identity_number": n, "record_id": "J-1", "rule": "skills", "level": "title_senior"},
        ["not", "an", "object"],
        {"identity_number": n, "record_id": "J-3", "rule": "skills", "level": True},
        {"identity_number": n, "record_id": "J-4", "rule": "skills", "colour": "red"},
    ]
    batch = run_import("hrss", json.dumps(rows), file_name="x.json")
    assert (batch.accepted, batch.rejected) == (1, 3)
    assert [e["code"] for e in batch.report] == [
        "",
        "not_an_object",
        "wrong_type",
        "unknown_field",
    ]
    assert batch.report[2]["field"] == "level"


def test_the_command_summary_counts_match_the_report(run_import, resident_factory):
    resident = resident_factory()
    n = resident.identity_number
    batch = run_import(
        "hrss",
        f"{HEADER}\n{n},P-1,skills,title_junior,,,,\n{STRANGER},P-2,skills,title_junior,,,,\n"
        f"{n},P-3,talent.talent_code,Z,,,,\n",
    )
    outcomes = [e["outcome"] for e in batch.report]
    assert batch.accepted == outcomes.count("accepted") == 1
    assert batch.rejected == outcomes.count("rejected") == 2
    assert batch.rows == 3
