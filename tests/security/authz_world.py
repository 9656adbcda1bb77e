"""The world of the authorization matrix: resident A's side owns everything, the roles come
from outside it.

Built through the real services, on top of the re-examination world (a published school-place
list in the autumn of 2025, ``tests/reexaminations/world.py``): A is its applicant ``a``
(wutong). A also has a draft claim and a submitted claim (routed to a department's review
task) with evidence, a re-examination of A's points (routed to zj_hrss), a fraud case against A
proposed by the center, an inbox message, and a feed batch of the department that sent A's
facts.

The roles (``ROLES``) look at A's objects: A themself (``owner``, the control that the URL
works), another resident with an account (B, puyuan), the clerk of another town (puyuan), the
reviewer of another department (court: it holds nothing about A), the center, the auditor, the
system and security administrators, and an anonymous visitor.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings

from jifen.audit.models import AuditEntry
from tests.factories import CHINA_TZ, make_resident, make_user

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
#: A Monday of 2026 (the 2026 calendar is loaded): the claims' time.
CLAIMS_NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=CHINA_TZ)

ROLES = (
    "owner",
    "resident_b",
    "clerk_other_town",
    "reviewer_other_department",
    "center",
    "auditor",
    "system_admin",
    "security_admin",
    "anonymous",
)


@dataclass
class AuthzWorld:
    users: dict[str, Any] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)
    #: Strings that identify A; no role but the owner and the center may ever receive them.
    secrets: dict[str, str] = field(default_factory=dict)

    def value(self, name: Any) -> Any:
        """A URL kwarg or body value: ``"@claim"`` → the pk of the object ``claim`` (as a
        string for a UUID); lists and dicts filled in depth; anything else as is."""
        if isinstance(name, str) and name.startswith("@"):
            pk = getattr(self.objects[name[1:]], "pk", None)
            return pk if isinstance(pk, int) else str(pk)
        if isinstance(name, list):
            return [self.value(v) for v in name]
        if isinstance(name, dict):
            return {k: self.value(v) for k, v in name.items()}
        return name


def _upload(resident, user, now):
    from jifen.evidence.services import store_upload

    return store_upload(
        SimpleUploadedFile("proof.png", PNG, content_type="image/png"),
        resident=resident,
        user=user,
        now=now,
    )


def build_world() -> AuthzWorld:
    from jifen.accounts.models import Role
    from jifen.claims import services as claims
    from jifen.claims.services import ClaimItemInput
    from jifen.facts.models import Fact
    from jifen.notifications.models import Notification
    from jifen.policies.services import draft_from_in_force
    from jifen.reexaminations.services import file_reexamination
    from jifen.sanctions import services as sanctions
    from jifen.simulations.services import start_simulation
    from tests.accounts.world import make_batch
    from tests.reexaminations import world as rx

    school = rx.build_world()
    a, user_a = school.residents["a"], school.users["a"]
    b = make_resident(town="puyuan")
    w = AuthzWorld()
    w.users = {
        "owner": user_a,
        "resident_b": make_user(Role.RESIDENT, resident=b, username="resident_b"),
        "clerk_other_town": make_user(Role.CLERK, town="puyuan", username="clerk_puyuan"),
        "reviewer_other_department": make_user(
            Role.REVIEWER, department="court", username="reviewer_court"
        ),
        "center": make_user(Role.CENTER, username="center_matrix"),
        "auditor": make_user(Role.AUDITOR, username="auditor"),
        "system_admin": make_user(Role.SYSTEM_ADMIN, username="system_admin", is_staff=True),
        "security_admin": make_user(Role.SECURITY_ADMIN, username="security_admin"),
        "anonymous": None,
    }

    # The re-examination of A's points on the published list, with A's evidence.
    reexamination = file_reexamination(
        publication=school.publication,
        enrollment=school.enrollments["a"],
        user=user_a,
        item="provincial.social_insurance",
        statement="My contributions since 2019 are missing.",
        evidence=[_upload(a, user_a, rx.FIRST_DAY)],
        now=rx.FIRST_DAY,
    )
    case = sanctions.propose(
        resident=a,
        user=school.center,
        grounds="The social insurance certificate was forged.",
        now=dt.datetime(2025, 10, 13, 10, 0, tzinfo=CHINA_TZ),
    )

    # A's claims: one submitted with evidence (a review task), one draft.
    evidence = _upload(a, user_a, CLAIMS_NOW)
    claim = claims.submit_claim(
        resident=a,
        user=user_a,
        items=[ClaimItemInput(rule="honours.commendation", level="city", date=dt.date(2025, 5, 1))],
        evidence=[evidence],
        channel="portal",
        now=CLAIMS_NOW,
    )
    draft = claims.save_draft(
        resident=a, user=user_a, data={"step": "rules"}, claim=None, now=CLAIMS_NOW
    )
    fact = Fact.objects.filter(resident=a).order_by("pk").first()
    batch = make_batch(fact.department, "zj_hrss_social_insurance")
    notification = Notification.objects.filter(user=user_a).order_by("pk").first()
    policy = draft_from_in_force(scope="tongxiang", user=w.users["center"], now=CLAIMS_NOW)
    simulation = start_simulation(user=w.users["center"], draft=policy, now=CLAIMS_NOW)

    w.objects = {
        "resident": a,
        "claim": claim,
        "draft": draft,
        "task": claim.tasks.get(),
        "item": claim.items.get(),
        "evidence": evidence,
        "fact": fact,
        "batch": batch,
        "notification": notification,
        "policy": policy,
        "simulation": simulation,
        "scenario": school.version.scenario,
        "scenario_version": school.version,
        "enrollment": school.enrollments["a"],
        "ranking": school.ranking,
        "publication": school.publication,
        "reexamination": reexamination,
        "fraud_case": case,
        # An entry that exists whatever the database's sequences (the admin redirects on an
        # unknown id, which would look like an answer).
        "audit_entry": AuditEntry.objects.order_by("-sequence").first(),
    }
    w.secrets = {
        "name": a.name,
        "identity number": a.identity_number,
        "phone": a.phone,
        "permit number": a.current_permit.number,
    }
    return w


@contextlib.contextmanager
def module_world(django_db_blocker, tmp_path_factory) -> Iterator[tuple[AuthzWorld, dict]]:
    """The world, built once for a test module inside a transaction rolled back at its end,
    and a signed-in test client per role: ``{role: (client, its cookies)}``."""
    evidence_root = tmp_path_factory.mktemp("authz-evidence")
    with (
        override_settings(PASSWORD_HASHERS=FAST_HASHER, JIFEN_EVIDENCE_ROOT=evidence_root),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        world = build_world()
        clients = {}
        for role, user in world.users.items():
            client = Client()
            if user is not None:
                client.force_login(user)
            clients[role] = (client, dict(client.cookies.items()))
        yield world, clients
        transaction.set_rollback(True)
