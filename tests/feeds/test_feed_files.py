"""Reading feed files: encodings (UTF-8, BOM, GBK, GB18030), refused files, CSV and JSON shape."""

from __future__ import annotations

import codecs

import pytest

from jifen.audit.models import AuditEntry
from jifen.facts.models import Fact
from jifen.feeds.errors import FeedFileRefused
from jifen.feeds.formats import FEEDS
from jifen.feeds.models import BatchStatus, FeedBatch
from jifen.feeds.parsing import decode, detect_format, parse
from jifen.residents.models import Resident

PS_HEADER = "identity_number,record_id,rule,date,name,town,permit_number,permit_issued_on"


def registration_csv(resident_number: str, name: str, town: str = "梧桐街道") -> str:
    return (
        f"{PS_HEADER}\n"
        f"{resident_number},REG-1,residence_registered_on,2019-03-15,{name},{town},"
        "ZJ330483000001,2025-03-20\n"
    )


@pytest.fixture
def newcomer_number():
    from tests.factories import new_identity_number

    return new_identity_number()


@pytest.mark.parametrize(
    ("encoding", "name", "detected"),
    [
        ("utf-8", "王小明", "utf-8"),
        ("utf-8-sig", "王小明", "utf-8-sig"),
        ("gbk", "王小明", "gbk"),
        ("gb18030", "王䶮", "gb18030"),  # 䶮 is outside GBK
    ],
)
def test_each_accepted_encoding_gives_the_right_characters(
    run_import, newcomer_number, encoding, name, detected
):
    content = registration_csv(newcomer_number, name).encode(encoding)
    batch = run_import("public_security", content)

    assert batch.status == BatchStatus.APPLIED and batch.encoding == detected
    assert (batch.accepted, batch.registered) == (1, 1)
    resident = Resident.objects.get()
    assert resident.name == name
    assert resident.town.code == "wutong"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"identity_number,record_id,rule\n\xff\xfe\x80,1,skills\n", "byte 0xff at offset 31"),
        ("identity_number,record_id,rule\n".encode("utf-16"), "UTF-16"),
        (b"identity_number\x00,record_id,rule\n", "NUL byte"),
        (b"", "empty"),
        (b"  \n\n", "empty"),
        (codecs.BOM_UTF8 + b"identity_number,\xff", "byte 0xff"),
    ],
)
def test_undecodable_files_are_refused_clearly_and_nothing_is_applied(run_import, content, words):
    batch = run_import("hrss", content)
    assert batch.status == BatchStatus.REFUSED
    assert words in batch.refusal_reason, batch.refusal_reason
    assert batch.refusal_reason_zh
    assert (batch.rows, batch.accepted, batch.rejected) == (0, 0, 0)
    assert Fact.objects.count() == 0
    entry = AuditEntry.objects.get(action="feed.batch_refused")
    assert entry.result == "failure" and entry.object_id == str(batch.pk)
    assert entry.actor_id == "feed:hrss"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("identity_number,record_id\n1,2\n", "missing required column(s): rule"),
        ("identity_number,record_id,rule,colour\n", "unknown column 'colour'"),
        ("identity_number,record_id,rule,rule\n", "appears twice"),
        ("identity_number,,rule\n", "column 2 of the header has no name"),
        ('identity_number,record_id,rule\n"unterminated,1,skills\n', "malformed CSV"),
        ('identity_number,record_id,rule\n"ab"c,1,skills\n', "malformed CSV at line 2"),
        ("\n\n", "empty"),
    ],
)
def test_malformed_csv_is_refused(run_import, text, words):
    batch = run_import("hrss", text)
    assert batch.status == BatchStatus.REFUSED
    assert words in batch.refusal_reason, batch.refusal_reason


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[{"identity_number": "1"', "malformed JSON at line 1"),
        ('{"rows": []}', "must be a list of row objects"),
        ('[{"rule": "a", "rule": "b"}]', "gives the key 'rule' twice"),
        ('[{"quantity": NaN}]', "malformed JSON"),
    ],
)
def test_malformed_json_is_refused(run_import, text, words):
    batch = run_import("hrss", text, file_name="feed.json")
    assert batch.status == BatchStatus.REFUSED and batch.format == ""
    assert words in batch.refusal_reason, batch.refusal_reason


def test_a_refused_file_can_be_sent_again_and_is_refused_again(run_import):
    first = run_import("hrss", b"\xff")
    second = run_import("hrss", b"\xff")
    assert first.pk != second.pk
    assert FeedBatch.objects.filter(status=BatchStatus.REFUSED).count() == 2


def test_headers_are_normalised(run_import, resident_factory):
    resident = resident_factory()
    batch = run_import(
        "hrss",
        " Identity_Number ,ＲＥＣＯＲＤ_ＩＤ,Rule,Level\n"
        f"{resident.identity_number},A-1,skills,title_junior\n",
    )
    assert batch.accepted == 1


def test_blank_lines_are_skipped(run_import, resident_factory):
    resident = resident_factory()
    n = resident.identity_number
    batch = run_import(
        "hrss",
        f"\nidentity_number,record_id,rule,level\n\n{n},A-1,skills,title_junior\n,,,\n",
    )
    assert (batch.rows, batch.accepted) == (1, 1)


def test_format_detection():
    assert detect_format("x.bin", "application/json; charset=utf-8", "a,b") == "json"
    assert detect_format("x.json", None, "a,b") == "json"
    assert detect_format("x.CSV", None, "[") == "csv"
    assert detect_format("upload", None, "  [{}]") == "json"
    assert detect_format("upload", None, "identity_number") == "csv"


def test_decode_prefers_utf8_and_refuses_rather_than_replaces():
    assert decode("身份".encode()) == ("身份", "utf-8")
    assert decode("身份".encode("gbk")) == ("身份", "gbk")
    with pytest.raises(FeedFileRefused) as refused:
        decode(b"abc\n\x81\x30\x81")  # an incomplete four-byte GB18030 sequence
    assert "line 2" in refused.value.reason


def test_json_numbers_are_read_exactly():
    parsed = parse(
        b'[{"identity_number": "1", "record_id": 7, "rule": "x", "quantity": 4500.10}]',
        FEEDS["tax"],
    )
    assert parsed.rows[0].values["quantity"] == "4500.10"
    assert parsed.rows[0].values["record_id"] == "7"
