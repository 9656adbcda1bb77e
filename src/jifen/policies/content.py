"""The content of a policy version: canonical YAML text, validation, merging, diff.

A version's content is the mapping a file of ``policies/`` holds. It is read with the policy
files' own YAML loader and validated with :func:`jifen.engine.policy.parse_policy` — exactly as
strict as a file, with the same error paths (``items[3].rules[0].points``); there is no second
validator. The platform keeps it as *canonical text* (:func:`canonical_text`): keys in the
files' order, decimals exact, no comments, so that export → import → export gives the same
text and the same content hash.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import yaml

from jifen.engine import Policy, PolicyError, PolicySet
from jifen.engine.policy import _DecimalLoader, parse_policy

__all__ = [
    "Change",
    "canonical_text",
    "diff",
    "load_text",
    "merge",
    "parse_text",
]


class _CanonicalDumper(yaml.SafeDumper):
    """Dumps the mapping the loader reads back identically (decimals exact, dates ISO)."""


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    if value == value.to_integral_value():
        return dumper.represent_int(int(value))
    # A plain scalar with a fraction: the loader reads it back as the same Decimal.
    return dumper.represent_scalar("tag:yaml.org,2002:float", format(value, "f"))


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_CanonicalDumper.add_representer(Decimal, _represent_decimal)
_CanonicalDumper.add_representer(str, _represent_str)


def canonical_text(data: Mapping[str, Any]) -> str:
    """The canonical YAML text of a policy mapping (order kept, no comments)."""
    return yaml.dump(
        _plain(data),
        Dumper=_CanonicalDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def load_text(text: str, name: str) -> dict[str, Any]:
    """The mapping of a policy text, read with the policy files' loader (decimals, no
    duplicate keys); a YAML error is a :class:`PolicyError` naming the line, as for files."""
    try:
        data = yaml.load(text, Loader=_DecimalLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError(name, where, f"not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise PolicyError(name, "(top level)", "must be a mapping")
    return data


def parse_text(text: str, name: str) -> Policy:
    """Load and validate a policy text exactly as ``jifen.engine.load_policy_file`` does."""
    return parse_policy(load_text(text, name), name)


def file_name(policy_id: str) -> str:
    """The file name a version has in ``policies/`` (and in error messages)."""
    return f"{policy_id}.yaml"


def merge(files: Iterable[Policy], published: Iterable[Policy]) -> PolicySet:
    """The versions of the files and the published platform versions as one set.

    A published version ends the version of its scope that precedes it: that one is in force
    until the day before (its content and hash unchanged, so stored scores still verify and
    nothing is recomputed for the days it covers). Overlaps among the files themselves, and
    duplicate ids, are refused by :class:`PolicySet` as before.
    """
    files = list(files)
    published = list(published)
    by_scope: dict[str, list[Policy]] = {}
    for policy in [*files, *published]:
        by_scope.setdefault(policy.scope, []).append(policy)
    new_ids = {p.id for p in published}
    ended: dict[str, Policy] = {}
    for versions in by_scope.values():
        ordered = sorted(versions, key=lambda p: p.effective_from)
        for earlier, later in itertools.pairwise(ordered):
            if later.id not in new_ids:
                continue
            last_day = later.effective_from - dt.timedelta(days=1)
            if earlier.effective_until is None or earlier.effective_until > last_day:
                if last_day < earlier.effective_from:
                    raise PolicyError(
                        later.file,
                        "effective_from",
                        f"must be after {earlier.effective_from} (the start of {earlier.id})",
                    )
                ended[earlier.id] = replace(earlier, effective_until=last_day)
    return PolicySet(ended.get(p.id, p) for p in [*files, *published])


# --- diff ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One difference between two versions: ``added``, ``removed`` or ``changed``."""

    kind: str
    #: Where: ``items.residence.rules.home_owner.points`` (items, rules and deductions by code).
    path: str
    #: What, readable: ``item residence › rule home_owner › points``.
    label: str
    before: Any = None
    after: Any = None

    @property
    def before_text(self) -> str:
        return _show(self.before)

    @property
    def after_text(self) -> str:
        return _show(self.after)


_IGNORED = frozenset({"id", "effective_from", "effective_until"})
_KEYED = {"items": "item", "rules": "rule", "deductions": "deduction"}


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, Mapping):
        if set(value) == {"zh", "en"}:
            return f"{value['zh']} / {value['en']}"
        return ", ".join(f"{k}: {_show(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_show(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _same(a: Any, b: Any) -> bool:
    numbers = all(isinstance(v, int | Decimal) and not isinstance(v, bool) for v in (a, b))
    if numbers:
        return Decimal(a) == Decimal(b)
    return a == b


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """The differences from ``old`` to ``new`` (two policy mappings), in reading order.

    Items, rules and deductions are matched by code (added, removed, or changed field by
    field); levels, departments and labels by key. The id and dates are left out: they differ
    between any two versions and are shown apart.
    """
    changes: list[Change] = []
    _diff_mapping(old, new, [], [], changes, top=True)
    return changes


def _diff_mapping(
    old: Mapping, new: Mapping, path: list[str], label: list[str], out: list[Change], top=False
) -> None:
    keys = list(old) + [k for k in new if k not in old]
    for key in keys:
        if top and key in _IGNORED:
            continue
        here, here_label = [*path, str(key)], [*label, str(key)]
        if key not in new:
            out.append(Change("removed", ".".join(here), " › ".join(here_label), old[key], None))
        elif key not in old:
            out.append(Change("added", ".".join(here), " › ".join(here_label), None, new[key]))
        else:
            _diff_value(old[key], new[key], here, here_label, out, key=str(key))


def _keyed(values: Any) -> dict[str, Any] | None:
    if not isinstance(values, list) or not all(
        isinstance(v, Mapping) and "code" in v for v in values
    ):
        return None
    return {str(v["code"]): v for v in values}


def _diff_value(a: Any, b: Any, path: list[str], label: list[str], out: list[Change], key: str):
    if key in _KEYED and isinstance(a, list) and isinstance(b, list):
        old, new = _keyed(a), _keyed(b)
        if old is not None and new is not None:
            noun = _KEYED[key]
            for code in list(old) + [c for c in new if c not in old]:
                where = [*path, code]
                what = [*label[:-1], f"{noun} {code}"]
                if code not in new:
                    out.append(Change("removed", ".".join(where), " › ".join(what), old[code]))
                elif code not in old:
                    out.append(Change("added", ".".join(where), " › ".join(what), None, new[code]))
                else:
                    _diff_mapping(old[code], new[code], where, what, out)
            return
    if isinstance(a, Mapping) and isinstance(b, Mapping) and set(a) != {"zh", "en"}:
        _diff_mapping(a, b, path, label, out)
        return
    if not _same(a, b):
        out.append(Change("changed", ".".join(path), " › ".join(label), a, b))


def deep_copy(data: Mapping[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(dict(data))
