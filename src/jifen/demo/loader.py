"""Load the demo: the population through the real feed imports, scores, one account per role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction

from jifen.accounts.models import Role
from jifen.audit.actors import Actor
from jifen.demo.population import build_demo_feeds
from jifen.feeds.importer import import_batch
from jifen.feeds.models import FeedBatch
from jifen.org.models import Department, Town
from jifen.residents.models import Resident
from jifen.residents.services import find_resident

#: The demo accounts (README lists them). Demo data only: never loaded in production.
DEMO_PASSWORD = "Jifen-Demo-2025!"  # noqa: S105 - published demo account, demo data only
DEMO_ACCOUNTS = (
    ("resident", Role.RESIDENT, None),
    ("clerk", Role.CLERK, "wutong"),
    ("reviewer", Role.REVIEWER, "hrss_bureau"),
    ("center", Role.CENTER, None),
    ("bureau", Role.BUREAU, None),
    ("auditor", Role.AUDITOR, None),
    ("sysadmin", Role.SYSTEM_ADMIN, None),
    ("secadmin", Role.SECURITY_ADMIN, None),
)
CHINA = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class DemoReport:
    residents: int
    batches: list[FeedBatch]
    accounts: list[str]


def load_demo(
    n: int,
    *,
    now: dt.datetime,
    seed: int = 20250201,
    progress: Callable[[str], None] = lambda message: None,
) -> DemoReport:
    """Send ``n`` synthetic residents through the feeds and create the demo accounts."""
    on = now.astimezone(CHINA).date()
    feeds = build_demo_feeds(n, on, seed=seed)
    batches = []
    for code, content in feeds.csv_files():
        progress(f"importing feed {code}")
        batches.append(
            import_batch(
                code,
                content,
                file_name=f"demo-{code}-{on.isoformat()}.csv",
                now=now,
                actor=Actor.system(f"feed:{code}"),
                content_type="text/csv",
            )
        )
    accounts = create_demo_accounts(feeds.people[0].identity_number)
    return DemoReport(residents=Resident.objects.count(), batches=batches, accounts=accounts)


@transaction.atomic
def create_demo_accounts(resident_identity_number: str) -> list[str]:
    """One account per role; the resident account belongs to the first demo resident."""
    User = get_user_model()
    created = []
    for username, role, unit in DEMO_ACCOUNTS:
        if User.objects.filter(username=username).exists():
            continue
        fields: dict = {"role": role}
        if role == Role.RESIDENT:
            fields["resident"] = find_resident(identity_number=resident_identity_number)
        elif role == Role.CLERK:
            fields["town"] = Town.objects.get(code=unit)
        elif role == Role.REVIEWER:
            fields["department"] = Department.objects.get(code=unit)
        user = User(username=username, **fields)
        user.set_password(DEMO_PASSWORD)
        user.full_clean()
        user.save()
        created.append(username)
    return created
