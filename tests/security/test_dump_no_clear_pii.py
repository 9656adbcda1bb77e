"""A database dump holds no identity, permit or phone number in clear (security.md "Data").

The PostgreSQL test loads the demo population through the real feed imports (so feed batches,
their rows and errors, facts, scores and the audit log are all in the dump), adds residents
with phone numbers, runs ``pg_dump`` (plain SQL, every table) and looks for every generated
number, whole and without its first six digits. The generated values are kept in memory from the
synthetic generator; the app decrypts them back, so the search is for values that exist.

On both databases: a stored token with one flipped byte is refused when read.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
from django.db import connection

from jifen.crypto import DecryptionError
from jifen.demo.loader import load_demo
from jifen.demo.population import build_demo_feeds
from jifen.residents.models import ResidencePermit, Resident
from jifen.residents.services import find_resident
from tests.factories import CHINA_TZ, make_resident

DEMO_SIZE = 200
DEMO_NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=CHINA_TZ)
DEMO_SEED = 20250201


def pg_dump_text() -> str:
    settings = connection.settings_dict
    command = [shutil.which("pg_dump") or "pg_dump", "--format=plain", "--no-owner"]
    if settings.get("HOST"):
        command += ["-h", settings["HOST"]]
    if settings.get("PORT"):
        command += ["-p", str(settings["PORT"])]
    if settings.get("USER"):
        command += ["-U", settings["USER"]]
    env = {"PGPASSWORD": settings.get("PASSWORD") or "", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [*command, settings["NAME"]], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump of the PostgreSQL database")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_pg_dump_after_loading_the_demo_holds_no_identity_permit_or_phone_number():
    load_demo(DEMO_SIZE, now=DEMO_NOW, seed=DEMO_SEED)
    # The same generator, the same seed: the numbers the loader sent through the feeds.
    people = build_demo_feeds(DEMO_SIZE, DEMO_NOW.date(), seed=DEMO_SEED).people
    with_phones = [make_resident(phone=f"1398765{n:04d}") for n in range(5)]

    secrets: list[str] = []
    for person in people:
        resident = find_resident(identity_number=person.identity_number)
        assert resident is not None  # the app holds (and decrypts) every generated number
        assert resident.current_permit.number == person.permit_number
        secrets += [person.identity_number, person.permit_number]
    for resident in with_phones:
        resident.refresh_from_db()
        secrets += [resident.identity_number, resident.phone, resident.current_permit.number]
    assert Resident.objects.count() >= DEMO_SIZE

    dump = pg_dump_text()
    # The dump is real: it holds the residents' rows (their search index values).
    first = find_resident(identity_number=people[0].identity_number)
    assert first.identity_number_index in dump and first.identity_number_token in dump
    leaked = []
    for secret in secrets:
        # Whole, and without the first six digits (the identity number's birth date and
        # serial, the permit's serial). Ten digits and more: no chance match in hex digests.
        for part in {secret, secret[6:] if len(secret) >= 16 else secret}:
            if part in dump:
                leaked.append(part)
    assert not leaked, f"{len(leaked)} numbers in clear in the dump, e.g. {leaked[:3]}"


def flip_one_character(token: str) -> str:
    """The token with one character of its payload changed (one byte of the ciphertext)."""
    prefix, _, body = token.rpartition(":")
    position = len(body) // 2
    changed = "A" if body[position] != "A" else "B"
    return f"{prefix}:{body[:position]}{changed}{body[position + 1 :]}"


@pytest.mark.django_db
def test_a_stored_token_with_one_flipped_byte_is_refused():
    resident = make_resident(phone="13912345678")
    token = Resident.objects.values_list("phone_token", flat=True).get(pk=resident.pk)
    Resident.objects.filter(pk=resident.pk).update(phone_token=flip_one_character(token))
    resident.refresh_from_db()
    with pytest.raises(DecryptionError):
        resident.phone  # noqa: B018

    permit = ResidencePermit.objects.get(resident=resident)
    ResidencePermit.objects.filter(pk=permit.pk).update(
        number_token=flip_one_character(permit.number_token)
    )
    permit.refresh_from_db()
    with pytest.raises(DecryptionError):
        permit.number  # noqa: B018
