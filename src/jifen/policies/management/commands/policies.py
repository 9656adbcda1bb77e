"""``jifen policies export VERSION FILE`` / ``jifen policies import FILE --user NAME`` /
``jifen policies list``: policy versions of the platform and the YAML files of ``policies/``.

Export writes the canonical text of a version (a platform version, or a file version) — the
text ``import`` of the same file stores again, so the round trip is identical (same content
hash, same text). Import creates a *draft* (validated exactly as a policy file is) that the
center approves and publishes in the workbench.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from jifen.accounts import clock
from jifen.engine import NoPolicyInForce
from jifen.policies import services
from jifen.policies.errors import PolicyVersionError
from jifen.policies.models import PolicyVersion


class Command(BaseCommand):
    help = "Export policy versions to YAML files, import a file as a draft, list versions."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        export = actions.add_parser("export", help="write a version's canonical YAML text")
        export.add_argument(
            "version", metavar="VERSION", help="policy id, e.g. tongxiang-2025-02-01"
        )
        export.add_argument("file", type=Path, metavar="FILE", help="'-' for standard output")
        imp = actions.add_parser("import", help="create a draft from a policy file")
        imp.add_argument("file", type=Path, metavar="FILE")
        imp.add_argument("--user", required=True, help="the proposing center user (username)")
        actions.add_parser("list", help="the platform's policy versions")

    def handle(self, *args, action, **options):
        return getattr(self, f"handle_{action}")(**options)

    def handle_export(self, *, version, file, **_):
        try:
            text = services.export_text(version)
        except NoPolicyInForce as exc:
            raise CommandError(str(exc)) from None
        if str(file) == "-":
            self.stdout.write(text, ending="")
        else:
            file.write_text(text, encoding="utf-8")
            self.stdout.write(f"exported {version} to {file}")

    def handle_import(self, *, file, user, **_):
        from jifen.accounts.models import User

        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{file}: {exc}") from None
        proposer = User.objects.filter(username=user).first()
        if proposer is None:
            raise CommandError(f"no user {user!r}")
        try:
            version = services.import_draft(text, user=proposer, now=clock.now(), name=file.name)
        except PolicyVersionError as exc:
            where = f" ({exc.field})" if exc.field else ""
            raise CommandError(f"{file.name}{where}: {exc.message}") from None
        self.stdout.write(
            f"draft {version.policy_id} created (sha256 {version.content_hash}); approve and "
            "publish it in the workbench (/workbench/policies/)"
        )

    def handle_list(self, **_):
        for v in PolicyVersion.objects.order_by("pk"):
            self.stdout.write(
                f"{v.policy_id}  {v.tier}/{v.scope}  {v.state}  from {v.effective_from}  "
                f"{v.document_number or '-'}  sha256 {v.content_hash or '(invalid)'}"
            )
