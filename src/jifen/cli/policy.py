"""``jifen policy validate|show``: check policy files, list the versions in force."""

from __future__ import annotations

import argparse
from pathlib import Path

from jifen.cli import CommandError, china_today, iso_date
from jifen.engine import Policy, PolicyError, PolicySet, load_policies, load_policy_file
from jifen.engine.policy import default_policy_dir


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("policy", help="validate policy files; show the versions in force")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    validate = actions.add_parser(
        "validate",
        help="validate policy files, alone and together with the loaded versions",
    )
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    validate.add_argument("--policy-dir", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    validate.set_defaults(handler=handle_validate)
    show = actions.add_parser("show", help="the policy versions in force on a date")
    show.add_argument("--on", type=iso_date, metavar="DATE", help="default: today in China")
    show.add_argument("--policy-dir", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    show.set_defaults(handler=handle_show)


def describe(policy: Policy) -> str:
    until = policy.effective_until.isoformat() if policy.effective_until else "further notice"
    flag = "  REFERENCE VALUES (参考值)" if policy.reference_values else ""
    return (
        f"{policy.id}  {policy.tier}/{policy.scope}  {policy.effective_from} to {until}  "
        f"sha256 {policy.hash}{flag}\n"
        f"    {policy.title.zh} — {policy.source['document']} {policy.source['clause']}"
    )


def handle_validate(args: argparse.Namespace) -> int:
    try:
        checked = [load_policy_file(path) for path in args.files]
        # A new version must also fit beside the versions already loaded (no overlap).
        directory = args.policy_dir or default_policy_dir()
        names = {p.file for p in checked}
        loaded = [
            load_policy_file(path)
            for path in sorted(directory.glob("*.yaml"))
            if path.name not in names
        ]
        PolicySet([*loaded, *checked])
    except PolicyError as exc:
        raise CommandError(str(exc)) from None
    for policy in checked:
        print(f"ok  {policy.file}\n    {describe(policy)}")
    return 0


def handle_show(args: argparse.Namespace) -> int:
    on = args.on or china_today()
    try:
        policies = load_policies(args.policy_dir)
    except PolicyError as exc:
        raise CommandError(str(exc)) from None
    in_force = policies.in_force(on)
    if not in_force:
        raise CommandError(f"no policy version is in force on {on}")
    print(f"policy versions in force on {on}:")
    for policy in in_force:
        print(describe(policy))
    tiers = {p.tier for p in in_force}
    if tiers != {"provincial", "city"}:
        missing = ", ".join(sorted({"provincial", "city"} - tiers))
        raise CommandError(f"no {missing} policy version is in force on {on}")
    return 0
