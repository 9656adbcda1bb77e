"""``jifen score PROFILE.json``: the calculator on the command line."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from jifen.cli import CommandError, china_today, iso_date
from jifen.engine import (
    NoPolicyInForce,
    PolicyError,
    ProfileError,
    ScoreResult,
    evaluate,
    load_policies,
)
from jifen.engine.result import money


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "score",
        help="score a profile (score profile format v1) and explain every point",
        description="Score a profile. Amounts are exact decimals with two places.",
    )
    parser.add_argument("profile", metavar="PROFILE.json", help="the profile file, or - for stdin")
    parser.add_argument(
        "--on", type=iso_date, metavar="DATE", help="evaluation date (default: today in China)"
    )
    parser.add_argument(
        "--review-date", type=iso_date, metavar="DATE", help="review date for deduction windows"
    )
    parser.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="VERSION",
        help="use this policy version instead of the one in force (repeatable, one per tier)",
    )
    parser.add_argument("--policy-dir", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    ahead = parser.add_mutually_exclusive_group()
    ahead.add_argument(
        "--project",
        type=iso_date,
        metavar="DATE",
        help="project the score to DATE from the facts known on --on (a projection, not a "
        "score: residence and insurance keep accruing, age moves, windows end)",
    )
    ahead.add_argument(
        "--reach",
        metavar="N",
        help="when will the projected total reach N points? (accrual only)",
    )
    parser.add_argument(
        "--horizon",
        type=int,
        default=10,
        metavar="YEARS",
        help="how far --reach looks ahead (default 10 years)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--lang", choices=("en", "zh"), default="en", help="language of the reasons in the table"
    )
    parser.set_defaults(handler=handle)


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json would keep the last of two equal keys; the profile format ignores nothing silently.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKey(key)
        out[key] = value
    return out


def read_profile(name: str) -> Any:
    """The profile's JSON, numbers with a fraction read as Decimal (never float)."""
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{name}: file not found") from None
    except IsADirectoryError:
        raise CommandError(f"{name}: is a directory, not a profile file") from None
    except UnicodeDecodeError:
        raise CommandError(f"{name}: not UTF-8 text") from None
    try:
        return json.loads(text, parse_float=Decimal, object_pairs_hook=_unique_keys)
    except DuplicateKey as exc:
        raise CommandError(f"invalid profile: {exc.key}: given twice") from None
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None


def handle(args: argparse.Namespace) -> int:
    data = read_profile(args.profile)
    on = args.on or china_today()
    if args.project is not None or args.reach is not None:
        return handle_projection(args, data, on)
    try:
        policies = load_policies(args.policy_dir)
        selection = policies.select(on, pinned=args.policy)
        result = evaluate(data, on, args.review_date or on, selection)
    except ProfileError as exc:
        raise CommandError(f"invalid profile: {exc}") from None
    except (PolicyError, NoPolicyInForce) as exc:
        raise CommandError(str(exc)) from None
    if args.review_date and args.review_date < on:
        print(
            f"note: review date {args.review_date} is before the evaluation date {on}",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_table(result, args.lang))
    return 0


def _facts_text(facts: dict[str, Any]) -> str:
    if "facts" in facts:
        refs = ", ".join(f["ref"] for f in facts["facts"])
        return f"{refs} (Σ {facts['quantity']})"
    parts = [facts["ref"]] if "ref" in facts else []
    parts += [f"{k}={v}" for k, v in facts.items() if k not in ("ref", "rule") and v is not None]
    return " ".join(parts)


def render_table(result: ScoreResult, lang: str = "en") -> str:
    """A readable table: item, rule, facts, points, reason."""
    sel = result.policy
    out = [
        f"policy      provincial {sel.provincial.id} ({sel.provincial.hash[:12]}), "
        f"city {sel.city.id} ({sel.city.hash[:12]})",
        f"hash        {sel.hash}",
        f"dates       evaluation {result.evaluation_date}, review {result.review_date}",
    ]
    if sel.reference_values:
        out.append(
            "NOTE        city point values are REFERENCE VALUES (参考值), not the official table"
        )
    rows = [("item", "rule", "facts", "points", "reason")]
    for line in result.explanation:
        reason = line.reason_zh if lang == "zh" else line.reason
        sign = "-" if line.section == "deduction" and line.points else ""
        rows.append(
            (
                f"{line.section}/{line.item}" if line.rule is None else line.item,
                line.rule or "",
                _facts_text(line.facts),
                f"{sign}{money(line.points)}",
                f"[{line.status}] {reason}",
            )
        )
    widths = [min(max(len(r[i]) for r in rows), cap) for i, cap in enumerate((28, 30, 34, 8))]
    out.append("")
    for row in rows:
        cells = [row[i][: widths[i]].ljust(widths[i]) for i in range(3)]
        cells.append(row[3].rjust(widths[3]))
        out.append("  ".join([*cells, row[4]]).rstrip())
    out.append("")
    out.append(
        f"TOTAL {money(result.total)} = provincial {money(result.provincial_total)} "
        f"+ city bonus {money(result.city_bonus_total)} − deductions "
        f"{money(result.deductions_total)}"
    )
    return "\n".join(out)


# --- projection (--project DATE, --reach N) -------------------------------------------------


def handle_projection(args: argparse.Namespace, data: Any, on: Any) -> int:
    """A projection from the facts known on ``on``: labelled as such, never as a score."""
    from jifen.engine.projection import ProjectionError, opportunities, project, reach

    if args.review_date is not None:
        raise CommandError(
            "--review-date: not used with --project/--reach (deduction windows count back "
            "from the projected date)"
        )
    try:
        policies = load_policies(args.policy_dir)
        chosen: Any = policies.select(on, pinned=args.policy) if args.policy else policies
        if args.project is not None:
            if args.project < on:
                raise CommandError(
                    f"--project: {args.project} is before the date of the facts {on} (--on)"
                )
            projection = project(data, on, args.project, chosen)
            found = opportunities(projection.profile, args.project, chosen)
            if args.json:
                out = projection.as_dict()
                out["opportunities"] = [o.as_dict() for o in found]
                print(json.dumps(out, ensure_ascii=False, indent=2))
            else:
                print(render_projection(projection, found, args.lang))
            return 0
        answer = reach(data, on, _points_argument(args.reach), chosen, args.horizon)
    except ProfileError as exc:
        raise CommandError(f"invalid profile: {exc}") from None
    except ProjectionError as exc:
        name = {"target": "--reach", "horizon_years": "--horizon", "on": "--project"}
        raise CommandError(f"{name.get(exc.field, exc.field)}: {exc.reason}") from None
    except (PolicyError, NoPolicyInForce) as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        print(json.dumps(answer.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_reach(answer, args.lang))
    return 0


def _points_argument(text: str) -> Decimal:
    from decimal import InvalidOperation

    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CommandError(f"--reach: {text!r} is not a number of points") from None
    if not value.is_finite() or value < 0:
        raise CommandError(f"--reach: must be a number of points ≥ 0, got {text}")
    return value


def _t(text: Any, lang: str) -> str:
    return text.zh if lang == "zh" else text.en


def render_projection(projection: Any, found: Any, lang: str = "en") -> str:
    from jifen.engine.projection import DISCLAIMER, LABEL

    sel = projection.selection
    sign = "+" if projection.difference > 0 else ""
    out = [
        f"{_t(LABEL, 'en').upper()} / {LABEL.zh}",
        _t(DISCLAIMER, lang),
        "",
        f"facts as of {projection.from_date}, projected to {projection.on}",
        f"policy      provincial {sel.provincial.id}, city {sel.city.id}"
        + ("" if projection.policy_known else " (no version known for that date)"),
    ]
    if sel.reference_values:
        out.append("NOTE        city point values are REFERENCE VALUES (参考值)")
    out += [
        "",
        f"PROJECTED TOTAL {money(projection.total)} (预测) — today "
        f"{money(projection.current_total)}, {sign}{money(projection.difference)}",
        "",
        "assumptions:",
        *(f"  - {_t(a, lang)}" for a in projection.assumptions),
    ]
    changed = [i for i in projection.items if i.difference]
    if changed:
        out += ["", "items that change:"]
        for i in changed:
            d = i.difference
            out.append(
                f"  {i.section}/{i.item:<20} {money(i.current):>7} -> {money(i.projected):>7}"
                f"  ({'+' if d > 0 else ''}{money(d)})"
            )
    if projection.changes:
        out += ["", "dated changes:"]
        out += [f"  {c.date}  {_t(c.text, lang)}" for c in projection.changes]
    if found:
        out += ["", f"where points can still be gained on {projection.on}:"]
        for o in found:
            out.append(
                f"  +{money(o.gain):>6}  {o.rule:<34} {_t(o.points, lang)}"
                f"{'  [accrues]' if o.kind == 'accrual' else ''}"
            )
            out.append(f"           {_t(o.proof, lang)}")
    out += ["", "projected explanation (the engine's, on the projected facts):"]
    out.append(render_table(projection.projected, lang).split("\n\n", 1)[1])
    return "\n".join(out)


def render_reach(answer: Any, lang: str = "en") -> str:
    from jifen.engine.projection import DISCLAIMER, LABEL

    out = [f"{_t(LABEL, 'en').upper()} / {LABEL.zh}", _t(DISCLAIMER, lang), ""]
    target, today = money(answer.target), money(answer.current_total)
    if answer.date is None:
        out.append(
            f"{target} points are not reached by {answer.until} with accrual alone "
            f"(today {today}); new facts would be needed."
        )
    elif answer.already:
        out.append(f"{target} points: already reached on {answer.from_date} (today {today}).")
    else:
        out.append(
            f"{target} points: projected to be reached on {answer.date} (预测), today {today}."
        )
        if answer.projection is not None:
            out += [f"  - {_t(a, lang)}" for a in answer.projection.assumptions]
    return "\n".join(out)
