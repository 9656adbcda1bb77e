"""The public list in its four channels — page, API, Excel, PDF — from the one row function:
masked names (one-character given names, compound surnames, names with a middle dot), and no
digit of an identity or permit number or a phone, no deduction reason."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest
from openpyxl import load_workbook
from pdfminer.high_level import extract_text

from jifen.rankings import exports
from jifen.rankings.exports import (
    PublicRow,
    api_data,
    page_data,
    public_rows,
    publication_excel,
    publication_pdf,
)
from jifen.rankings.services import freeze_ranking, publish, publish_corrected
from tests.factories import CHINA_TZ
from tests.rankings.conftest import ENDS, FROZEN, PUBLISHED, STARTS

pytestmark = pytest.mark.django_db
ON = dt.datetime(2025, 10, 9, 10, 0, tzinfo=CHINA_TZ)
NAMES = {
    "李一": "李*",
    "欧阳娜娜": "欧***",
    "阿卜杜·热合曼": "阿*****",
    "张三丰": "张**",
}


@pytest.fixture
def listing(define, enrol, center):
    version = define(
        quotas=[{"key": "school:wutong-1", "label": "桐乡实验小学", "places": 3, "town": None}]
    )
    people = [
        enrol(version, 80 - i, name=name, deductions="2" if i == 0 else "0")
        for i, name in enumerate(NAMES)
    ]
    ranking = freeze_ranking(version=version, user=center, now=FROZEN)
    publication = publish(
        ranking=ranking, starts_on=STARTS, ends_on=ENDS, user=center, now=PUBLISHED
    )
    return publication, people


def secrets(people) -> list[str]:
    out = []
    for enrollment in people:
        resident = enrollment.resident
        out += [resident.identity_number, resident.phone, resident.current_permit.number]
    return [s for s in out if s]


def channel_texts(publication) -> dict[str, str]:
    page = json.dumps(page_data(publication, now=ON), ensure_ascii=False)
    api = json.dumps(api_data(publication, now=ON), ensure_ascii=False)
    workbook = load_workbook(io.BytesIO(publication_excel(publication, now=ON)), read_only=True)
    cells = [
        str(value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]
    excel = "\n".join(cells)
    pdf = extract_text(io.BytesIO(publication_pdf(publication, now=ON)))
    return {"page": page, "api": api, "excel": excel, "pdf": pdf}


def assert_public(text: str, people, channel: str) -> None:
    for masked in NAMES.values():
        assert masked in text, (channel, masked)
    for person in people:
        name = person.resident.name
        joined = re.sub(r"[·\s]", "", name)
        # Neither the name nor anything after its first character.
        for part in (name, joined, name[1:], joined[1:], name.split("·")[-1]):
            assert part not in text, (channel, name, part)
    # No identity, permit or phone number, nor any 4 consecutive digits of one, once the
    # application numbers, points, ranks and dates (all legitimately published) are removed.
    stripped = re.sub(r"YY\d{10}", "", text)
    stripped = re.sub(r"-?\d+\.\d{2}", "", stripped)
    stripped = re.sub(r"\d{4}(-\d{2}-\d{2}|年\d{1,2}月\d{1,2}日)", "", stripped)
    stripped = re.sub(r"[0-9a-f]{16,64}", "", stripped)
    for secret in secrets(people):
        digits = re.sub(r"\D", "", secret)
        assert secret not in text, (channel, "whole number")
        for i in range(len(digits) - 3):
            assert digits[i : i + 4] not in stripped, (channel, digits[i : i + 4])
    assert "交通违法" not in text, channel  # the deduction's reason


def test_mask_across_page_api_excel_and_pdf(listing):
    publication, people = listing
    texts = channel_texts(publication)
    for channel, text in texts.items():
        assert_public(text, people, channel)
        for enrollment in people:
            assert enrollment.number in text, channel
    assert "桐乡实验小学" in texts["pdf"] and "候补" in texts["pdf"]
    assert "复核申请截止：2025年10月9日" in texts["pdf"]
    assert "2025年9月29日至2025年10月11日" in texts["pdf"]
    assert "义务教育积分入学" in texts["pdf"]


def test_one_row_function_with_only_the_published_fields(listing):
    publication, _people = listing
    rows = public_rows(publication)
    assert [r.name for r in rows] == list(NAMES.values())
    assert [r.rank for r in rows] == [1, 2, 3, 4]
    assert rows[0].points == "80.00"
    assert dict(rows[0].breakdown) == {"provincial.age": "80.00", "deductions": "-2.00"}
    assert [r.allocation for r in rows] == ["桐乡实验小学"] * 3 + ["候补"]
    assert set(PublicRow.__dataclass_fields__) == {
        "number",
        "name",
        "rank",
        "points",
        "breakdown",
        "allocation",
    }
    api = api_data(publication, now=ON)
    assert set(api["rows"][0]) == {"number", "name", "rank", "points", "breakdown", "allocation"}
    assert api["reexamination_filing_until"] == "2025-10-09"
    assert api["columns"][-1] == {"code": "deductions", "label": "扣分"}
    page = page_data(publication, now=ON, page=9)
    assert page["page"] == 1 and page["pages"] == 1 and len(page["rows"]) == 4
    assert page_data(publication, now=ON, page="x")["page"] == 1
    assert api_data(publication, now=ON, offset=1, limit=2)["rows"][0]["rank"] == 2


def test_every_channel_reads_the_one_row_function(listing, monkeypatch):
    publication, _people = listing
    calls = []
    original = exports.public_rows

    def spy(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(exports, "public_rows", spy)
    page_data(publication, now=ON)
    api_data(publication, now=ON)
    publication_excel(publication, now=ON)
    publication_pdf(publication, now=ON)
    assert len(calls) == 4


def test_the_corrected_list_names_what_changed_in_every_channel(listing, center):
    publication, people = listing
    last = people[-1]
    last.points = "90.00"
    last.save()
    now = dt.datetime(2025, 10, 13, 10, tzinfo=CHINA_TZ)
    corrected = publish_corrected(
        ranking=publication.ranking,
        reason="复核结果更正",
        changes=[{"number": last.number, "why": "复核成立：社保月数更正"}],
        user=center,
        now=now,
    )
    data = api_data(corrected, now=now)
    assert data["corrected"] is True
    assert {c["number"] for c in data["changes"]} >= {last.number}
    assert data["rows"][0]["name"] == "张**"
    pdf = extract_text(io.BytesIO(publication_pdf(corrected, now=now)))
    assert "更正说明" in pdf and "复核成立：社保月数更正" in pdf
    workbook = load_workbook(io.BytesIO(publication_excel(corrected, now=now)), read_only=True)
    assert workbook.sheetnames == ["公示名单", "更正说明"]
    for text in channel_texts_at(corrected, now).values():
        assert_public(text, people, "corrected")


def channel_texts_at(publication, now):
    global ON
    saved, ON = ON, now
    try:
        return channel_texts(publication)
    finally:
        ON = saved
