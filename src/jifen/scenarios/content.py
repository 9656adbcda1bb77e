"""A scenario version's definition: validation, canonical form and hash, tie-break values.

The definition (``ScenarioVersion.content``) is one JSON object; unknown keys are refused at
every level and every error names its field (``content.open_until``,
``content.tie_breaks[2]``, ``content.quotas[1].places``):

=====================  ====================================================================
``rules_text``         the published implementation rules (text, required)
``rules_url``          where they are published (``http(s)://…``, may be empty)
``open_from``          start of the open period: an aware datetime, whole seconds
``open_until``         end of the open period, **exclusive**: an enrollment is accepted when
                       ``open_from ≤ now < open_until``
``evaluation_date``    the date scores are evaluated on (bonus windows); default: the China
                       date of ``open_from`` (the opening date, measures 二)
``review_date``        deduction windows count back from it; ≥ ``evaluation_date``; default:
                       ``evaluation_date``
``eligibility``        ``min_total`` (points, ≥ 0, at most two decimals), ``permit_valid``
                       (default true: the permit valid on the evaluation date),
                       ``child_birth_from`` / ``child_birth_to`` (both or neither; the
                       applicant gives ``details.child_birth_date``), ``min_residence_months``
                       (whole months since the first residence permit, on the evaluation date)
``score_basis``        ``{"kind": "total"}`` or ``{"kind": "items", "items": ["provincial.age",
                       "city.residence"], "deductions": true}`` (items of the policies in force
                       on the evaluation date; deductions subtracted unless ``false``)
``tie_breaks``         ordered, from :data:`TIE_BREAKS` or ``item:<section>.<item>``;
                       ``applied_at`` must be present and last
``quotas``             non-empty list of ``{"key", "label", "places" (> 0), "town" (a town
                       code or null)}``; keys unique
``preferences``        ``{"max": n}`` (1 ≤ n ≤ number of quotas) or null (then exactly one
                       quota)
=====================  ====================================================================

The canonical form has sorted keys, datetimes in China time (``2026-07-01T09:00:00+08:00``),
dates ``YYYY-MM-DD``, points as strings with two decimals and every default written out, so
that two equal definitions have the same SHA-256 (:func:`content_hash`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

from jifen.scenarios.errors import InvalidScenario

CHINA = ZoneInfo("Asia/Shanghai")
TOP_KEYS = (
    "rules_text",
    "rules_url",
    "open_from",
    "open_until",
    "evaluation_date",
    "review_date",
    "eligibility",
    "score_basis",
    "tie_breaks",
    "quotas",
    "preferences",
)
REQUIRED_KEYS = ("rules_text", "open_from", "open_until", "score_basis", "tie_breaks", "quotas")
ELIGIBILITY_KEYS = (
    "min_total",
    "permit_valid",
    "child_birth_from",
    "child_birth_to",
    "min_residence_months",
)
#: Tie-breaks besides ``item:<section>.<item>``, with their direction (True: higher first).
TIE_BREAKS = {
    "provincial_total": True,
    "city_bonus_total": True,
    "deductions_total": False,
    "applied_at": False,
}
SECTIONS = ("provincial", "city")
_KEY = re.compile(r"^[a-z0-9][a-z0-9:_.-]{0,79}$")
_URL = re.compile(r"^https?://[^\s]+$")
_HUNDREDTH = Decimal("0.01")
MAX_RULES_TEXT = 20_000
MAX_QUOTAS = 200


def canonical_json(content: dict[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_hash(content: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of ``content``."""
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


def china_iso(value: dt.datetime) -> str:
    return value.astimezone(CHINA).isoformat()


def parse_datetime(value: str) -> dt.datetime:
    """A canonical content datetime back to an aware datetime."""
    return dt.datetime.fromisoformat(value)


def tie_break_direction(token: str) -> bool:
    """True when a higher value ranks first (sub-scores), False for ``deductions_total`` and
    ``applied_at`` (lower / earlier first)."""
    return TIE_BREAKS.get(token, True)


def item_points(result: dict[str, Any], ref: str) -> Decimal:
    """The points of item ``<section>.<item>`` in a stored score result (0 when absent)."""
    section, _sep, item = ref.partition(".")
    items = result.get(section, {}).get("items", {})
    return Decimal(str(items.get(item, "0")))


# --- validation -----------------------------------------------------------------------------


def _fail(message: Any, field: str) -> InvalidScenario:
    return InvalidScenario(message, field=field)


def _keys(value: Any, allowed: tuple[str, ...], field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(_("An object is expected."), field)
    for key in value:
        if key not in allowed:
            raise _fail(
                _("Unknown key %(key)s (allowed: %(allowed)s).")
                % {"key": key, "allowed": ", ".join(allowed)},
                f"{field}.{key}",
            )
    return value


def _datetime(value: Any, field: str) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise _fail(
                _("A date and time is expected, like 2026-07-01T09:00:00+08:00."), field
            ) from None
    if not isinstance(value, dt.datetime):
        raise _fail(_("A date and time is expected, like 2026-07-01T09:00:00+08:00."), field)
    if value.tzinfo is None or value.utcoffset() is None:
        raise _fail(_("The date and time must include its time zone (+08:00)."), field)
    if value.microsecond:
        raise _fail(_("The time is given to the second."), field)
    return value


def _date(value: Any, field: str) -> dt.date:
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise _fail(_("A date is expected, written YYYY-MM-DD."), field) from None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise _fail(_("A date is expected, written YYYY-MM-DD."), field)
    return value


def _text(value: Any, field: str, *, required: bool, limit: int) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _fail(_("Text is expected."), field)
    value = value.strip()
    if required and not value:
        raise _fail(_("This field is required."), field)
    if len(value) > limit:
        raise _fail(_("At most %(limit)s characters.") % {"limit": limit}, field)
    return value


def _int(value: Any, field: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(_("A whole number is expected."), field)
    if value < minimum:
        raise _fail(_("At least %(minimum)s.") % {"minimum": minimum}, field)
    return value


def _points(value: Any, field: str) -> str:
    if isinstance(value, bool | float):
        raise _fail(_('Points are a number with at most two decimals, e.g. "60".'), field)
    try:
        points = Decimal(str(value))
        exact = points.is_finite() and points == points.quantize(_HUNDREDTH)
    except (InvalidOperation, ValueError):
        exact = False
    if not exact:
        raise _fail(_('Points are a number with at most two decimals, e.g. "60".'), field)
    if points < 0:
        raise _fail(_("Points must not be negative."), field)
    if points > Decimal("1000"):
        raise _fail(_("Points above 1000 cannot be reached."), field)
    return str(points.quantize(_HUNDREDTH))


def _policy_items(on: dt.date) -> dict[str, set[str]]:
    from jifen.scores.errors import NoPolicyForDate
    from jifen.scores.services import select_policies

    try:
        selection = select_policies(on)
    except NoPolicyForDate:
        raise InvalidScenario(
            _("No points policy is in force on %(date)s.") % {"date": on.isoformat()},
            field="content.evaluation_date",
            code="scenarios.no_policy",
        ) from None
    return {
        "provincial": {item.code for item in selection.provincial.items},
        "city": {item.code for item in selection.city.items},
    }


def _item_ref(value: Any, field: str, items: dict[str, set[str]]) -> str:
    if not isinstance(value, str) or "." not in value:
        raise _fail(_("An item is written <section>.<item>, e.g. provincial.age."), field)
    section, _sep, item = value.partition(".")
    if section not in SECTIONS:
        raise _fail(
            _("Unknown section %(section)s (provincial or city).") % {"section": section}, field
        )
    if item not in items[section]:
        raise _fail(
            _("%(ref)s is not an item of the %(section)s policy in force on the evaluation date.")
            % {"ref": value, "section": section},
            field,
        )
    return value


def validate_content(raw: Any, *, towns: set[str] | None = None) -> dict[str, Any]:
    """The canonical form of the definition ``raw``, or :class:`InvalidScenario` naming the
    first field at fault. ``towns`` (the known town codes) is read from the database when
    not given."""
    content = _keys(raw, TOP_KEYS, "content")
    for key in REQUIRED_KEYS:
        if key not in content or content[key] is None:
            raise _fail(_("This field is required."), f"content.{key}")
    out: dict[str, Any] = {}
    out["rules_text"] = _text(
        content["rules_text"], "content.rules_text", required=True, limit=MAX_RULES_TEXT
    )
    url = _text(content.get("rules_url"), "content.rules_url", required=False, limit=500)
    if url and not _URL.match(url):
        raise _fail(_("A link starting with http:// or https:// is expected."), "content.rules_url")
    out["rules_url"] = url

    open_from = _datetime(content["open_from"], "content.open_from")
    open_until = _datetime(content["open_until"], "content.open_until")
    if not open_from < open_until:
        raise _fail(
            _("The open period must end after it starts (%(start)s).")
            % {"start": china_iso(open_from)},
            "content.open_until",
        )
    out["open_from"] = china_iso(open_from)
    out["open_until"] = china_iso(open_until)
    opening = open_from.astimezone(CHINA).date()
    if content.get("evaluation_date") is None:
        evaluation = opening
    else:
        evaluation = _date(content["evaluation_date"], "content.evaluation_date")
    if content.get("review_date") is None:
        review = evaluation
    else:
        review = _date(content["review_date"], "content.review_date")
        if review < evaluation:
            raise _fail(
                _("The review date must not be before the evaluation date (%(date)s).")
                % {"date": evaluation.isoformat()},
                "content.review_date",
            )
    out["evaluation_date"] = evaluation.isoformat()
    out["review_date"] = review.isoformat()
    items = _policy_items(evaluation)

    out["eligibility"] = _eligibility(content.get("eligibility"))
    out["score_basis"] = _score_basis(content["score_basis"], items)
    out["tie_breaks"] = _tie_breaks(content["tie_breaks"], items)
    out["quotas"] = _quotas(content["quotas"], towns)
    out["preferences"] = _preferences(content.get("preferences"), len(out["quotas"]))
    return out


def _eligibility(value: Any) -> dict[str, Any]:
    field = "content.eligibility"
    value = _keys(value if value is not None else {}, ELIGIBILITY_KEYS, field)
    out: dict[str, Any] = {
        "min_total": None,
        "permit_valid": True,
        "child_birth_from": None,
        "child_birth_to": None,
        "min_residence_months": None,
    }
    if value.get("min_total") is not None:
        out["min_total"] = _points(value["min_total"], f"{field}.min_total")
    if "permit_valid" in value:
        if not isinstance(value["permit_valid"], bool):
            raise _fail(_("true or false is expected."), f"{field}.permit_valid")
        out["permit_valid"] = value["permit_valid"]
    born_from, born_to = value.get("child_birth_from"), value.get("child_birth_to")
    if (born_from is None) != (born_to is None):
        missing = "child_birth_to" if born_to is None else "child_birth_from"
        raise _fail(_("Give both ends of the birth-date range."), f"{field}.{missing}")
    if born_from is not None:
        start = _date(born_from, f"{field}.child_birth_from")
        end = _date(born_to, f"{field}.child_birth_to")
        if end < start:
            raise _fail(
                _("The range must not end before it starts (%(date)s).")
                % {"date": start.isoformat()},
                f"{field}.child_birth_to",
            )
        out["child_birth_from"], out["child_birth_to"] = start.isoformat(), end.isoformat()
    if value.get("min_residence_months") is not None:
        out["min_residence_months"] = _int(
            value["min_residence_months"], f"{field}.min_residence_months", minimum=0
        )
    return out


def _score_basis(value: Any, items: dict[str, set[str]]) -> dict[str, Any]:
    field = "content.score_basis"
    value = _keys(value, ("kind", "items", "deductions"), field)
    kind = value.get("kind")
    if kind == "total":
        for key in ("items", "deductions"):
            if key in value:
                raise _fail(_("The total basis takes no %(key)s.") % {"key": key}, f"{field}.{key}")
        return {"kind": "total"}
    if kind != "items":
        raise _fail(_("The kind is total or items."), f"{field}.kind")
    listed = value.get("items")
    if not isinstance(listed, list) or not listed:
        raise _fail(_("List at least one item."), f"{field}.items")
    seen: list[str] = []
    for index, ref in enumerate(listed):
        ref = _item_ref(ref, f"{field}.items[{index}]", items)
        if ref in seen:
            raise _fail(_("%(ref)s is listed twice.") % {"ref": ref}, f"{field}.items[{index}]")
        seen.append(ref)
    deductions = value.get("deductions", True)
    if not isinstance(deductions, bool):
        raise _fail(_("true or false is expected."), f"{field}.deductions")
    return {"kind": "items", "items": seen, "deductions": deductions}


def _tie_breaks(value: Any, items: dict[str, set[str]]) -> list[str]:
    field = "content.tie_breaks"
    if not isinstance(value, list) or not value:
        raise _fail(_("List the tie-breaks, ending with applied_at."), field)
    seen: list[str] = []
    for index, token in enumerate(value):
        where = f"{field}[{index}]"
        if isinstance(token, str) and token.startswith("item:"):
            _item_ref(token[len("item:") :], where, items)
        elif token not in TIE_BREAKS:
            raise _fail(
                _(
                    "Unknown tie-break %(token)s (provincial_total, city_bonus_total, "
                    "deductions_total, item:<section>.<item>, applied_at)."
                )
                % {"token": token},
                where,
            )
        if token in seen:
            raise _fail(_("%(token)s is listed twice.") % {"token": token}, where)
        seen.append(token)
    if seen[-1] != "applied_at":
        where = f"{field}[{seen.index('applied_at')}]" if "applied_at" in seen else field
        raise _fail(_("The time of application (applied_at) must be the last tie-break."), where)
    return seen


def _quotas(value: Any, towns: set[str] | None) -> list[dict[str, Any]]:
    field = "content.quotas"
    if not isinstance(value, list) or not value:
        raise _fail(_("Give at least one quota of places."), field)
    if len(value) > MAX_QUOTAS:
        raise _fail(_("At most %(n)s quotas.") % {"n": MAX_QUOTAS}, field)
    if towns is None:
        from jifen.org.models import Town

        towns = set(Town.objects.values_list("code", flat=True))
    out: list[dict[str, Any]] = []
    keys: set[str] = set()
    for index, quota in enumerate(value):
        where = f"{field}[{index}]"
        quota = _keys(quota, ("key", "label", "places", "town"), where)
        key = quota.get("key")
        if not isinstance(key, str) or not _KEY.match(key):
            raise _fail(
                _("A key of lower-case letters, digits and : _ . - is expected."), f"{where}.key"
            )
        if key in keys:
            raise _fail(_("The quota key %(key)s is used twice.") % {"key": key}, f"{where}.key")
        keys.add(key)
        label = _text(quota.get("label"), f"{where}.label", required=True, limit=200)
        if "places" not in quota:
            raise _fail(_("This field is required."), f"{where}.places")
        places = _int(quota["places"], f"{where}.places", minimum=1)
        town = quota.get("town")
        if town is not None and (not isinstance(town, str) or town not in towns):
            raise _fail(_("Unknown town %(town)s.") % {"town": town}, f"{where}.town")
        out.append({"key": key, "label": label, "places": places, "town": town})
    return out


def _preferences(value: Any, quotas: int) -> dict[str, int] | None:
    field = "content.preferences"
    if value is None:
        if quotas != 1:
            raise _fail(
                _("Without preferences a scenario has exactly one quota; allow preferences."),
                field,
            )
        return None
    value = _keys(value, ("max",), field)
    if "max" not in value:
        raise _fail(_("This field is required."), f"{field}.max")
    most = _int(value["max"], f"{field}.max", minimum=1)
    if most > quotas:
        raise _fail(
            _("At most %(n)s preferences: there are %(n)s quotas.") % {"n": quotas},
            f"{field}.max",
        )
    return {"max": most}
