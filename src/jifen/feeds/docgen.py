"""The per-feed pages of ``docs/feeds/`` and their examples, generated from the registry and
the policy versions, so the documentation cannot drift from what the importer accepts
(``jifen feeds docs --check`` and a test compare them).

The examples use synthetic identity numbers (valid check digits, no real person) and values
that the policies in force accept; a test imports every example, CSV and JSON.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from jifen.engine import PolicySelection, PolicySet
from jifen.engine.policy import PROFILE_FIELDS, Rule
from jifen.feeds.formats import FEEDS, PERMIT_STATUS_RULE, FeedFormat
from jifen.identity import check_digit

#: The examples' dates are on or before this day (tests import them "on" it or later).
EXAMPLE_DAY = dt.date(2025, 6, 1)


def _identity(region: str, birth: dt.date, sequence: str) -> str:
    first17 = f"{region}{birth:%Y%m%d}{sequence}"
    return first17 + check_digit(first17)


#: Synthetic residents of the examples: (identity number, name, town).
EXAMPLE_RESIDENTS = (
    (_identity("340122", dt.date(1990, 5, 1), "123"), "王小明", "wutong"),
    (_identity("410523", dt.date(1986, 11, 23), "244"), "李芳", "puyuan"),
    (_identity("522101", dt.date(1995, 2, 14), "031"), "张伟", "chongfu"),
)

_PROVINCIAL_EXAMPLES: dict[str, dict[str, str]] = {
    "birth_date": {},  # filled from the identity number
    "residence_registered_on": {"date": "2019-03-15"},
    "residence_months": {"quantity": "70"},
    "education": {"level": "bachelor"},
    "skills": {"level": "vocational_level_3", "date": "2021-06-30"},
    "social_insurance_months": {"quantity": "48"},
}
_QUANTITY_BY_UNIT = {"months": "24", "years": "5", "hours": "35", "yuan": "4500"}


@dataclass(frozen=True)
class RuleDoc:
    rule: str
    zh: str
    en: str
    values: str
    key: str


def documented_selection(policies: PolicySet) -> PolicySelection:
    """The versions the pages describe: those in force on the latest effective date."""
    latest = max(p.effective_from for p in policies.policies)
    return policies.select(latest)


def rule_docs(feed: FeedFormat, selection: PolicySelection) -> list[RuleDoc]:
    docs = []
    for code in feed.rules:
        docs.append(_rule_doc(feed, code, selection))
    if PERMIT_STATUS_RULE in feed.extra_rules:
        docs.append(
            RuleDoc(
                PERMIT_STATUS_RULE,
                "居住证状态变更",
                "residence permit status change",
                "`status` (valid, awaiting_endorsement, suspended, cancelled), `date` = "
                "effective date (required), `reason`, `permit_number` (optional)",
                "the permit's status history (`source_ref` = `public_security:<record_id>`)",
            )
        )
    return docs


def _window(rule_or_years: int | None) -> str:
    return f"; counts within the last {rule_or_years} years" if rule_or_years else ""


def _rule_doc(feed: FeedFormat, code: str, selection: PolicySelection) -> RuleDoc:
    city = selection.city
    if code in PROFILE_FIELDS:
        shape = PROFILE_FIELDS[code]
        rule = next(
            r
            for p in (selection.provincial, selection.city)
            for r in p.rules.values()
            if r.field == code or r.months_since_field == code
        )
        levels = sorted(
            {
                level
                for p in (selection.provincial, selection.city)
                for r in p.rules.values()
                if r.field == code and r.levels
                for level in r.levels
            }
        )
        if shape == "date":
            values = "`date` (required)"
            if code == "birth_date":
                values += "; must agree with the identity number"
        elif shape == "quantity":
            values = "`quantity` (whole number, required); `date` (as of, optional)"
        else:
            values = f"`level` (required): {', '.join(levels)}; `date` (obtained, optional)"
        key = f"`{code}:<level>`" if shape == "codes" else f"`{code}`"
        name = selection.provincial.rules.get(rule.ref) or rule
        item = next(
            (i for p in (selection.provincial, selection.city) for i in p.items if name in i.rules),
            None,
        )
        zh = item.name.zh if item else code
        en = item.name.en if item else code
        return RuleDoc(code, zh, en, values, key + " (one current value per resident)")
    if code in city.deductions_by_code:
        d = city.deductions_by_code[code]
        values = "`date` (required), `act` (optional)"
        if d.while_listed:
            values += ", `until` (optional: the day the listing ended)"
        window = "; counts while listed" if d.while_listed else _window(d.window_years)
        return RuleDoc(code, d.name.zh, d.name.en, values + window, f"`{feed.code}:<record_id>`")
    rule = city.rules[code]
    parts = []
    if rule.levels:
        parts.append(f"`level` (required): {', '.join(rule.levels)}")
    if rule.kind == "per_unit":
        unit = rule.unit_name.en if rule.unit_name else "units"
        parts.append(f"`quantity` ({unit}, required)")
    parts.append("`date` (required)" if rule.window_years else "`date` (optional)")
    return RuleDoc(
        code,
        rule.name.zh,
        rule.name.en,
        ", ".join(parts) + _window(rule.window_years),
        f"`{feed.code}:<record_id>`",
    )


def example_rows(feed: FeedFormat, selection: PolicySelection) -> list[dict[str, str]]:
    """One example row per rule of the feed (plus a registration and a permit change for
    public security), spread over the example residents."""
    rows: list[dict[str, str]] = []
    for i, code in enumerate(feed.rules):
        identity = EXAMPLE_RESIDENTS[i % len(EXAMPLE_RESIDENTS)][0]
        row = {"identity_number": identity, "record_id": _record_id(feed, i), "rule": code}
        row.update(_example_values(code, identity, selection))
        rows.append(row)
    if feed.registers_residents:
        # The first row of the third resident registers them (a resident not yet known).
        for row in rows:
            if row["identity_number"] == EXAMPLE_RESIDENTS[2][0]:
                row.update(
                    name=EXAMPLE_RESIDENTS[2][1],
                    town=EXAMPLE_RESIDENTS[2][2],
                    permit_number="ZJ3304832025000317",
                    permit_issued_on="2025-03-20",
                )
                break
    if PERMIT_STATUS_RULE in feed.extra_rules:
        rows.append(
            {
                "identity_number": EXAMPLE_RESIDENTS[1][0],
                "record_id": _record_id(feed, len(rows)),
                "rule": PERMIT_STATUS_RULE,
                "status": "suspended",
                "date": "2025-05-10",
                "reason": "逾期未签注",
            }
        )
    return rows


def _record_id(feed: FeedFormat, i: int) -> str:
    return f"{feed.code[:3].upper()}-2025-{i + 1:04d}"


def _example_values(code: str, identity: str, selection: PolicySelection) -> dict[str, str]:
    if code == "birth_date":
        return {"date": f"{identity[6:10]}-{identity[10:12]}-{identity[12:14]}"}
    if code in _PROVINCIAL_EXAMPLES:
        return dict(_PROVINCIAL_EXAMPLES[code])
    city = selection.city
    if code in city.deductions_by_code:
        d = city.deductions_by_code[code]
        values = {"date": "2024-03-01", "act": f"ACT-{code[:4].upper()}-01"}
        if d.while_listed:
            values = {"date": "2024-01-10", "until": "2025-01-09"}
        return values
    rule: Rule = city.rules[code]
    values: dict[str, str] = {}
    if rule.levels:
        values["level"] = next(iter(rule.levels))
    if rule.kind == "per_unit":
        unit = rule.unit_name.en if rule.unit_name else ""
        values["quantity"] = _QUANTITY_BY_UNIT.get(unit, "10")
    if rule.window_years:
        values["date"] = "2024-05-01"
    return values


def example_csv(feed: FeedFormat, rows: list[dict[str, str]]) -> str:
    columns = [c for c in feed.column_names if any(c in row for row in rows)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return buffer.getvalue()


def example_json(rows: list[dict[str, str]]) -> str:
    items = []
    for row in rows:
        item: dict[str, object] = {}
        for key, value in row.items():
            item[key] = int(value) if key == "quantity" and value.isdigit() else value
        items.append(json.dumps(item, ensure_ascii=False))
    return "[\n  " + ",\n  ".join(items) + "\n]\n"


def render_feed_page(feed: FeedFormat, policies: PolicySet) -> str:
    selection = documented_selection(policies)
    rows = example_rows(feed, selection)
    lines = [
        f"# Feed `{feed.code}` — {feed.zh} ({feed.en})",
        "",
        "<!-- Generated by `jifen feeds docs --write docs/feeds` from jifen.feeds.formats and "
        "the policy files; do not edit by hand. -->",
        "",
        f"- Sent by: `{feed.department}`; carries the rules routed to "
        + ", ".join(f"`{d}`" for d in feed.departments)
        + " (routing table).",
        f"- API: `POST /api/feeds/{feed.code}/batches` with `Authorization: Token <token of "
        f"{feed.department}>` and the file as the body (`text/csv` or `application/json`).",
        f"- Command: `jifen feeds import {feed.code} FILE.csv` (or `.json`).",
        f"- Rules of the policy versions {selection.provincial.id} and {selection.city.id}.",
        "- Encoding, idempotency, row rejection and the report: see [the common rules](README.md).",
        "",
    ]
    if feed.notes:
        lines += [f"Notes: {feed.notes}", ""]
    lines += ["## Columns", "", "| column | required | meaning |", "|---|---|---|"]
    for column in feed.columns:
        required = "yes" if column.required else ""
        lines.append(f"| `{column.name}` | {required} | {column.en}（{column.zh}） |")
    lines += [
        "",
        "Columns not listed here are refused (the whole file). Empty cells and JSON `null` "
        'mean "not given"; a value in a column the rule does not take rejects the row.',
        "",
        "## Rules accepted",
        "",
        "| `rule` | item | value columns | fact key |",
        "|---|---|---|---|",
    ]
    for doc in rule_docs(feed, selection):
        lines.append(f"| `{doc.rule}` | {doc.zh}（{doc.en}） | {doc.values} | {doc.key} |")
    lines += [
        "",
        "## Example (CSV)",
        "",
        "```csv",
        example_csv(feed, rows).rstrip("\n"),
        "```",
        "",
        "## Example (JSON)",
        "",
        "The same rows; the same facts.",
        "",
        "```json",
        example_json(rows).rstrip("\n"),
        "```",
        "",
    ]
    return "\n".join(lines)


def pages(policies: PolicySet, feeds: Iterable[FeedFormat] | None = None) -> dict[str, str]:
    """``file name → content`` of every feed page."""
    return {f"{f.code}.md": render_feed_page(f, policies) for f in feeds or FEEDS.values()}


def write_pages(directory: Path, policies: PolicySet) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in pages(policies).items():
        path = directory / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def stale_pages(directory: Path, policies: PolicySet) -> list[str]:
    """Names of pages missing or different from what the registry and policies give."""
    stale = []
    for name, content in pages(policies).items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            stale.append(name)
    return stale
