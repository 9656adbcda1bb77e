"""``jifen feeds``: import feed files, list the feeds, manage department tokens and routes.

jifen feeds import FEED FILE        import one file (progress bar on stderr); exit 2 when
                                    the file is refused, 0 otherwise (rejected rows are
                                    listed)
jifen feeds list                    the feeds, their departments, formats and rules
jifen feeds token create DEPT --label L    print a new API token (once)
jifen feeds token revoke ID
jifen feeds token list [DEPT]
jifen feeds routes [--sync [--prune]]      the routing table of the feeds' departments
jifen feeds docs --write DIR | --check DIR the generated pages of docs/feeds/
"""

from __future__ import annotations

import getpass
import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from jifen.audit.actors import Actor
from jifen.feeds import docgen
from jifen.feeds.errors import FeedError
from jifen.feeds.formats import FEEDS, get_feed
from jifen.feeds.importer import import_feed
from jifen.feeds.models import BatchStatus, DepartmentToken, FeedBatch
from jifen.feeds.tokens import create_token, revoke_token
from jifen.org.models import Department, RuleRoute
from jifen.org.routing import sync_routes_from_policies
from jifen.scores.policies import current_policies

REFUSED_EXIT = 2


def operator_actor() -> Actor:
    """The person at the terminal, as a named system actor (``cli:<login>``)."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        login = "unknown_login"
    login = re.sub(r"[^a-z0-9_.\-]", "_", login.lower()) or "unknown_login"
    return Actor.system(f"cli:{login}")


class Command(BaseCommand):
    help = "Department data feeds: import files, list feeds, manage tokens and routes."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        imp = actions.add_parser("import", help="import one feed file (CSV or JSON)")
        imp.add_argument("feed", help="feed code (jifen feeds list)")
        imp.add_argument("file", help="the file to import")
        imp.add_argument(
            "--format", choices=["csv", "json"], default=None, help="default: from the name"
        )
        imp.add_argument("--no-progress", action="store_true", help="no progress bar")

        actions.add_parser("list", help="the feeds, their departments, formats and rules")

        token = actions.add_parser("token", help="department API tokens")
        token_actions = token.add_subparsers(dest="token_action", required=True)
        create = token_actions.add_parser("create", help="create a token (printed once)")
        create.add_argument("department", help="department code")
        create.add_argument("--label", required=True, help="what the token is for")
        revoke = token_actions.add_parser("revoke", help="revoke a token")
        revoke.add_argument("id", type=int)
        listing = token_actions.add_parser("list", help="list tokens (never the secrets)")
        listing.add_argument("department", nargs="?", default=None)

        routes = actions.add_parser("routes", help="the routing table of the feeds")
        routes.add_argument("--sync", action="store_true", help="add routes from the policies")
        routes.add_argument(
            "--prune", action="store_true", help="with --sync: remove routes no policy names"
        )

        docs = actions.add_parser("docs", help="generate the per-feed pages of docs/feeds/")
        group = docs.add_mutually_exclusive_group(required=True)
        group.add_argument("--write", metavar="DIR", help="write the pages into DIR")
        group.add_argument("--check", metavar="DIR", help="exit 1 if DIR's pages are stale")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "import":
            self.import_file(options)
        elif action == "list":
            self.list_feeds()
        elif action == "token":
            self.token(options)
        elif action == "routes":
            self.routes(options)
        elif action == "docs":
            self.docs(options)

    # --- import -------------------------------------------------------------------------------

    def import_file(self, options: dict[str, Any]) -> None:
        try:
            feed = get_feed(options["feed"])
        except FeedError:
            raise CommandError(
                f"unknown feed {options['feed']!r} (one of: {', '.join(FEEDS)})",
                returncode=REFUSED_EXIT,
            ) from None
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}", returncode=2) from None
        content_type = {"csv": "text/csv", "json": "application/json"}.get(options["format"])
        bars: list[tqdm] = []

        def progress(done: int, total: int) -> None:
            if options["no_progress"]:
                return
            if not bars:
                # The raw stream: OutputWrapper.write would end every redraw with a newline.
                bars.append(tqdm(total=total, unit="rows", file=self.stderr._out, desc=feed.code))
            bars[0].update(done - bars[0].n)

        now = timezone.now()
        try:
            result = import_feed(
                feed.code,
                content,
                file_name=path.name,
                now=now,
                actor=Actor.system(f"feed:{feed.code}", unit=feed.department),
                content_type=content_type,
                progress=progress,
                audit_data={"operator": operator_actor().id},
            )
        except FeedError as exc:
            raise CommandError(str(exc.message), returncode=REFUSED_EXIT) from None
        finally:
            for bar in bars:
                bar.close()
        batch = result.batch
        if batch.status == BatchStatus.REFUSED:
            raise CommandError(
                f"{path.name} refused (batch {batch.pk}): {batch.refusal_reason}; "
                "nothing was applied",
                returncode=REFUSED_EXIT,
            )
        if result.replayed:
            self.stdout.write(
                f"{path.name} was already imported as batch {batch.pk} "
                f"({batch.received_at:%Y-%m-%d %H:%M}); nothing changed."
            )
        self.stdout.write(summary(batch))
        rejected = [e for e in batch.report if e["outcome"] == "rejected"]
        if rejected:
            self.stdout.write("Rejected rows:")
            for e in rejected:
                field = f"{e['field']}: " if e["field"] else ""
                self.stdout.write(
                    f"  row {e['row']} [{e['record_id'] or '-'}] {field}{e['reason']}"
                )

    # --- list ---------------------------------------------------------------------------------

    def list_feeds(self) -> None:
        width = max(len(code) for code in FEEDS)
        for feed in FEEDS.values():
            formats = ", ".join(feed.formats)
            self.stdout.write(f"{feed.code:<{width}}  {feed.department:<26}  {formats}  {feed.zh}")
            self.stdout.write(f"{'':<{width}}  rules: {', '.join(feed.rules + feed.extra_rules)}")

    # --- tokens -------------------------------------------------------------------------------

    def token(self, options: dict[str, Any]) -> None:
        now = timezone.now()
        sub = options["token_action"]
        if sub == "create":
            department = Department.objects.filter(code=options["department"]).first()
            if department is None:
                raise CommandError(f"unknown department {options['department']!r}", returncode=2)
            token, raw = create_token(
                department, label=options["label"], now=now, actor=operator_actor()
            )
            feeds = [f.code for f in FEEDS.values() if f.department == department.code]
            self.stderr.write(
                f"Token {token.pk} for {department.code} ({', '.join(feeds) or 'no feed'}). "
                "It is shown once and stored only as a hash:"
            )
            self.stdout.write(raw)
        elif sub == "revoke":
            token = DepartmentToken.objects.filter(pk=options["id"]).first()
            if token is None:
                raise CommandError(f"no token {options['id']}", returncode=2)
            token = revoke_token(token, now=now, actor=operator_actor())
            self.stdout.write(f"Token {token.pk} revoked at {token.revoked_at:%Y-%m-%d %H:%M}.")
        else:
            tokens = DepartmentToken.objects.select_related("department").order_by("pk")
            if options["department"]:
                tokens = tokens.filter(department__code=options["department"])
            for t in tokens:
                state = "revoked" if t.revoked_at else "active"
                used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
                self.stdout.write(
                    f"{t.pk}  {t.department.code}  {state}  last used {used}  {t.label}"
                )

    # --- routes and docs ----------------------------------------------------------------------

    def routes(self, options: dict[str, Any]) -> None:
        if options["sync"]:
            report = sync_routes_from_policies(
                current_policies(),
                now=timezone.now(),
                actor=operator_actor(),
                prune=options["prune"],
            )
            self.stdout.write(
                f"{len(report.created)} route(s) added, {len(report.removed)} removed."
            )
            if report.unknown_departments:
                self.stderr.write(
                    "Departments named by the policies but unknown here: "
                    + ", ".join(report.unknown_departments)
                )
        for route in RuleRoute.objects.select_related("department"):
            self.stdout.write(f"{route.rule:<40} {route.department.code}")

    def docs(self, options: dict[str, Any]) -> None:
        policies = current_policies()
        if options["write"]:
            for path in docgen.write_pages(Path(options["write"]), policies):
                self.stdout.write(str(path))
            return
        stale = docgen.stale_pages(Path(options["check"]), policies)
        if stale:
            raise CommandError(
                "stale feed pages (run jifen feeds docs --write): " + ", ".join(stale),
                returncode=1,
            )
        self.stdout.write("feed pages are up to date")


def summary(batch: FeedBatch) -> str:
    registered = f", {batch.registered} resident(s) registered" if batch.registered else ""
    return (
        f"batch {batch.pk} {batch.feed} {batch.file_name} ({batch.format}, {batch.encoding}): "
        f"{batch.rows} rows — {batch.accepted} accepted, {batch.unchanged} unchanged, "
        f"{batch.superseded} superseded, {batch.rejected} rejected{registered}"
    )
