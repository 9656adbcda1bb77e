"""Feed files for a synthetic population: what each department would send about it.

The population is :func:`jifen.synthetic.profiles.generate_profile` plus synthetic identity
numbers, names, phones and permits; every fact becomes a row of the feed that carries its rule,
so loading the demo goes through the same import path as a real department's file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from jifen.feeds.formats import FEEDS, PERMIT_STATUS_RULE
from jifen.synthetic.identity import generate_identity_number, generate_name
from jifen.synthetic.profiles import generate_profile

TOWNS = (
    ("wutong", 16),
    ("fengming", 12),
    ("longxiang", 9),
    ("puyuan", 14),
    ("tudian", 6),
    ("wuzhen", 8),
    ("zhouquan", 8),
    ("dama", 5),
    ("chongfu", 10),
    ("heshan", 6),
    ("shimen", 6),
)
COLUMNS = ("identity_number", "record_id", "rule", "level", "quantity", "date", "until", "act")
REGISTRATION_COLUMNS = ("name", "town", "permit_number", "permit_issued_on", "status", "reason")


@dataclass
class DemoPerson:
    """One synthetic resident as the feeds describe them."""

    index: int
    identity_number: str
    name: str
    town: str
    permit_number: str
    permit_issued_on: dt.date
    profile: dict[str, Any]
    lapsed: str = ""  # "suspended" / "cancelled" when the demo lapses their permit


@dataclass
class DemoFeeds:
    """The files to import, public security first (it registers the residents)."""

    people: list[DemoPerson]
    rows: dict[str, list[dict[str, str]]] = field(default_factory=lambda: defaultdict(list))

    def csv_files(self) -> list[tuple[str, bytes]]:
        order = ["public_security", *sorted(k for k in self.rows if k != "public_security")]
        files = []
        for code in order:
            rows = self.rows.get(code)
            if not rows:
                continue
            columns = list(COLUMNS)
            if code == "public_security":
                columns += REGISTRATION_COLUMNS
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=columns, extrasaction="raise")
            writer.writeheader()
            writer.writerows(rows)
            files.append((code, out.getvalue().encode("utf-8")))
        return files


def _rule_feeds() -> dict[str, str]:
    # The first feed that documents a rule sends it (front-line posts: the Transport Bureau).
    owner: dict[str, str] = {}
    for feed in FEEDS.values():
        for rule in feed.rules:
            owner.setdefault(rule, feed.code)
    return owner


def build_demo_feeds(
    n: int, on: dt.date, seed: int = 20250201, lapsed_share: float = 0.03
) -> DemoFeeds:
    """``n`` residents registered in Tongxiang, their facts as feed rows, a few lapsed permits."""
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not secrets
    owner = _rule_feeds()
    feeds = DemoFeeds(people=[])
    town_codes = [t for t, _ in TOWNS]
    town_weights = [w for _, w in TOWNS]
    for index in range(n):
        profile = generate_profile(rng, on)
        birth = dt.date.fromisoformat(profile["birth_date"])
        sex = rng.choice(("male", "female"))
        registered = dt.date.fromisoformat(profile["residence_registered_on"])
        person = DemoPerson(
            index=index,
            identity_number=generate_identity_number(rng, birth, sex=sex),
            name=generate_name(rng, sex=sex),
            town=rng.choices(town_codes, town_weights)[0],
            permit_number=f"3304{rng.randint(10**11, 10**12 - 1)}",
            permit_issued_on=max(registered, on - dt.timedelta(days=rng.randint(30, 3000))),
            profile=profile,
        )
        if rng.random() < lapsed_share:
            person.lapsed = rng.choice(("suspended", "suspended", "cancelled"))
        feeds.people.append(person)
        _rows_for(feeds, person, owner, on)
    return feeds


def _row(person: DemoPerson, record: str, rule: str, **values: Any) -> dict[str, str]:
    row = {c: "" for c in COLUMNS}
    row.update(identity_number=person.identity_number, record_id=record, rule=rule)
    for key, value in values.items():
        row[key] = "" if value is None else str(value)
    return row


def _rows_for(feeds: DemoFeeds, person: DemoPerson, owner: dict[str, str], on: dt.date) -> None:
    p = person.profile
    tag = f"D{person.index:06d}"
    registration = _row(
        person, f"{tag}-reg", "residence_registered_on", date=p["residence_registered_on"]
    )
    registration.update(
        name=person.name,
        town=person.town,
        permit_number=person.permit_number,
        permit_issued_on=person.permit_issued_on.isoformat(),
        status="",
        reason="",
    )
    ps = feeds.rows["public_security"]
    ps.append(registration)
    ps.append(_blank_extra(_row(person, f"{tag}-birth", "birth_date", date=p["birth_date"])))
    if p.get("residence_months") is not None:
        ps.append(
            _blank_extra(
                _row(person, f"{tag}-months", "residence_months", quantity=p["residence_months"])
            )
        )
    if p.get("education"):
        feeds.rows["education"].append(
            _row(person, f"{tag}-edu", "education", level=p["education"])
        )
    hrss = feeds.rows["hrss"]
    for skill in p.get("skills", []):
        hrss.append(_row(person, f"{tag}-skill-{skill}", "skills", level=skill))
    hrss.append(
        _row(person, f"{tag}-si", "social_insurance_months", quantity=p["social_insurance_months"])
    )
    for i, fact in enumerate(p["city"]):
        feed = owner.get(fact["rule"])
        if feed is None:  # no department feed (town commendations): those come as claims
            continue
        row = _row(person, f"{tag}-c{i}", fact["rule"], level=fact.get("level"),
                   quantity=fact.get("quantity"), date=fact.get("date"))  # fmt: skip
        feeds.rows[feed].append(_blank_extra(row) if feed == "public_security" else row)
    for i, fact in enumerate(p["deductions"]):
        feed = owner[fact["rule"]]
        row = _row(person, f"{tag}-d{i}", fact["rule"], date=fact["date"], until=fact.get("until"),
                   act=f"{tag}-{fact['act']}")  # fmt: skip
        feeds.rows[feed].append(_blank_extra(row) if feed == "public_security" else row)
    if person.lapsed:
        change = _blank_extra(
            _row(person, f"{tag}-permit", PERMIT_STATUS_RULE, date=on.isoformat())
        )
        change.update(
            status=person.lapsed,
            reason="逾期未签注" if person.lapsed == "suspended" else "注销",
        )
        ps.append(change)


def _blank_extra(row: dict[str, str]) -> dict[str, str]:
    for column in REGISTRATION_COLUMNS:
        row.setdefault(column, "")
    return row
