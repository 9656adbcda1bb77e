"""Reading a feed file: detect the encoding, then CSV or JSON rows.

Encodings: UTF-8 (with or without a byte-order mark) is tried first and strictly; a file that
is not UTF-8 is tried as GBK, then GB18030 (its superset). UTF-16/32, NUL bytes and bytes that
none of these can decode are refused with the offset of the first bad byte — never replaced.

Everything that makes the file unreadable as a whole raises :class:`FeedFileRefused` (nothing
is applied). A row that is only wrong in itself (wrong number of CSV fields, a JSON item that is
not an object, a value of the wrong type) comes back as a row with ``error`` set and is
rejected alone.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from jifen.feeds.errors import FeedFileRefused
from jifen.feeds.formats import FeedFormat

CSV = "csv"
JSON = "json"
#: Content types the API accepts (the charset parameter is ignored: the encoding is detected).
CONTENT_TYPES = {"text/csv": CSV, "application/csv": CSV, "application/json": JSON}


@dataclass
class RowProblem:
    """A row that cannot be read on its own: rejected with this field and reason."""

    field: str
    code: str
    en: str
    zh: str


@dataclass
class Row:
    """One data row: ``number`` is 1 for the first record after the CSV header (a spreadsheet's
    line 2) or the first item of the JSON list."""

    number: int
    values: dict[str, str | None] = field(default_factory=dict)
    problem: RowProblem | None = None


@dataclass
class ParsedFile:
    format: str
    encoding: str
    rows: list[Row]


def detect_format(file_name: str, content_type: str | None, text: str) -> str:
    """``csv`` or ``json``: from the content type, else the file name, else the first
    character (``[`` or ``{`` is JSON)."""
    if content_type:
        media = content_type.split(";", 1)[0].strip().lower()
        if media in CONTENT_TYPES:
            return CONTENT_TYPES[media]
    lowered = file_name.lower()
    if lowered.endswith(".json"):
        return JSON
    if lowered.endswith((".csv", ".txt")):
        return CSV
    return JSON if text.lstrip()[:1] in ("[", "{") else CSV


def decode(content: bytes) -> tuple[str, str]:
    """``(text, encoding)``; raises :class:`FeedFileRefused` for anything undecodable."""
    if not content.strip():
        raise FeedFileRefused("the file is empty", "文件为空")
    if content.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or content.startswith(
        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    ):
        raise FeedFileRefused(
            "the file is UTF-16 or UTF-32 text; send UTF-8 (or GBK)",
            "文件为UTF-16/UTF-32编码，请使用UTF-8（或GBK）编码",
        )
    if content.startswith(codecs.BOM_UTF8):
        try:
            return content[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise _undecodable(content, exc.start + len(codecs.BOM_UTF8), "UTF-8") from None
    nul = content.find(b"\x00")
    if nul >= 0:
        raise FeedFileRefused(
            f"the file contains a NUL byte at offset {nul}: it is binary or UTF-16, not text "
            "in UTF-8 or GBK",
            f"文件第{nul}字节处含有NUL字节：不是UTF-8或GBK编码的文本文件",
        )
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    for encoding in ("gbk", "gb18030"):
        try:
            return content.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            last = exc
    raise _undecodable(content, last.start, "UTF-8, GBK or GB18030")


def _undecodable(content: bytes, offset: int, tried: str) -> FeedFileRefused:
    line = content.count(b"\n", 0, offset) + 1
    byte = content[offset : offset + 1].hex()
    return FeedFileRefused(
        f"the file is not text in {tried}: byte 0x{byte} at offset {offset} (line {line}) "
        "cannot be decoded; send UTF-8 or GBK",
        f"文件不是{tried}编码的文本：第{line}行（偏移{offset}）的字节0x{byte}无法解码，"
        "请使用UTF-8或GBK编码",
    )


def _normalise_name(name: str) -> str:
    # Full-width letters and stray spaces are common in exported headers.
    return unicodedata.normalize("NFKC", name).strip().lower()


def parse(
    content: bytes, feed: FeedFormat, *, file_name: str = "", content_type: str | None = None
) -> ParsedFile:
    """Decode and split a feed file into rows of ``column → text or None``."""
    text, encoding = decode(content)
    fmt = detect_format(file_name, content_type, text)
    try:
        rows = _parse_csv(text, feed) if fmt == CSV else _parse_json(text, feed)
    except FeedFileRefused as exc:
        exc.encoding = encoding
        raise
    return ParsedFile(format=fmt, encoding=encoding, rows=rows)


def _parse_csv(text: str, feed: FeedFormat) -> list[Row]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
        if header is None:
            raise FeedFileRefused("the CSV file has no header row", "CSV文件缺少表头行")
        columns = _check_header([_normalise_name(c) for c in header], feed)
        rows: list[Row] = []
        for number, record in enumerate(reader, start=1):
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(columns):
                rows.append(
                    Row(
                        number,
                        problem=RowProblem(
                            "",
                            "wrong_field_count",
                            f"the row has {len(record)} fields; the header has {len(columns)}",
                            f"该行有{len(record)}个字段，表头有{len(columns)}个",
                        ),
                    )
                )
                continue
            values = {
                name: (cell.strip() or None) for name, cell in zip(columns, record, strict=True)
            }
            rows.append(Row(number, values))
    except csv.Error as exc:
        raise FeedFileRefused(
            f"malformed CSV at line {reader.line_num}: {exc}",
            f"CSV格式错误（第{reader.line_num}行）：{exc}",
        ) from None
    return rows


def _check_header(columns: list[str], feed: FeedFormat) -> list[str]:
    known = set(feed.column_names)
    seen: set[str] = set()
    for i, name in enumerate(columns, start=1):
        if not name:
            raise FeedFileRefused(f"column {i} of the header has no name", f"表头第{i}列没有列名")
        if name in seen:
            raise FeedFileRefused(
                f"column {name!r} appears twice in the header", f"表头中列“{name}”重复"
            )
        if name not in known:
            raise FeedFileRefused(
                f"unknown column {name!r} (the {feed.code} feed has: "
                f"{', '.join(feed.column_names)})",
                f"未知列“{name}”（{feed.code}接口的列：{', '.join(feed.column_names)}）",
            )
        seen.add(name)
    missing = [name for name in feed.required_columns if name not in seen]
    if missing:
        raise FeedFileRefused(
            f"missing required column(s): {', '.join(missing)}",
            f"缺少必需的列：{', '.join(missing)}",
        )
    return columns


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _parse_json(text: str, feed: FeedFormat) -> list[Row]:
    try:
        data = json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_refuse_constant,
            object_pairs_hook=_no_duplicates,
        )
    except _DuplicateKey as exc:
        raise FeedFileRefused(
            f"a JSON object gives the key {exc.args[0]!r} twice",
            f"JSON对象中键“{exc.args[0]}”重复",
        ) from None
    except json.JSONDecodeError as exc:
        raise FeedFileRefused(
            f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            f"JSON格式错误（第{exc.lineno}行第{exc.colno}列）：{exc.msg}",
        ) from None
    except ValueError as exc:
        raise FeedFileRefused(f"malformed JSON: {exc}", f"JSON格式错误：{exc}") from None
    if not isinstance(data, list):
        raise FeedFileRefused(
            "the JSON file must be a list of row objects ([{...}, {...}])",
            "JSON文件必须是行对象的数组（[{...}, {...}]）",
        )
    known = set(feed.column_names)
    rows: list[Row] = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            rows.append(
                Row(
                    number,
                    problem=RowProblem(
                        "", "not_an_object", "the row is not an object", "该行不是JSON对象"
                    ),
                )
            )
            continue
        values: dict[str, str | None] = {}
        problem = None
        for key, value in item.items():
            name = _normalise_name(key)
            if name not in known:
                problem = RowProblem(
                    key,
                    "unknown_field",
                    f"unknown field {key!r} (the {feed.code} feed has: "
                    f"{', '.join(feed.column_names)})",
                    f"未知字段“{key}”",
                )
                break
            if value is None:
                values[name] = None
            elif isinstance(value, str):
                values[name] = value.strip() or None
            elif isinstance(value, int | Decimal) and not isinstance(value, bool):
                values[name] = str(value)
            else:
                problem = RowProblem(
                    name,
                    "wrong_type",
                    f"must be a string or a number, not {type(value).__name__}",
                    "必须是字符串或数字",
                )
                break
        rows.append(Row(number, values, problem))
    return rows
