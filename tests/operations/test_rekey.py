"""Key rotation: after a new current version, ``jifen rekey`` re-encrypts every stored number,
the values read back the same, the old version can then be removed; ``--check`` says what is
left; each batch is audited without values."""

from __future__ import annotations

import base64

import pytest
from django.core.management import CommandError, call_command

from jifen.audit.chain import verify_chain
from jifen.audit.models import AuditEntry
from jifen.residents.models import ResidencePermit, Resident
from jifen.residents.pii import field_cipher
from tests.factories import make_resident

pytestmark = pytest.mark.django_db

KEY_1 = base64.b64encode(b"1" * 32).decode()
KEY_2 = base64.b64encode(b"2" * 32).decode()


@pytest.fixture
def keys(settings):
    def use(config: str, current: int) -> None:
        settings.JIFEN_FIELD_KEYS = config
        settings.JIFEN_FIELD_KEY_CURRENT = current
        field_cipher.cache_clear()

    use(f"1:{KEY_1}", 1)
    yield use
    field_cipher.cache_clear()


def tokens() -> list[str]:
    values = list(Resident.objects.values_list("identity_number_token", "phone_token"))
    return [t for pair in values for t in pair if t] + list(
        ResidencePermit.objects.values_list("number_token", flat=True)
    )


def test_rekey_moves_every_token_to_the_current_version(keys):
    people = [make_resident(phone=f"1381234{n:04d}") for n in range(3)]
    people.append(make_resident(phone=""))
    before = {
        r.pk: (r.identity_number, r.phone, r.current_permit.number) for r in Resident.objects.all()
    }
    assert all(t.startswith("v1:") for t in tokens())

    keys(f"1:{KEY_1},2:{KEY_2}", 2)
    with pytest.raises(CommandError, match="older key versions"):
        call_command("rekey", "--check")
    call_command("rekey", "--batch", "2")
    assert all(t.startswith("v2:") for t in tokens())
    call_command("rekey", "--check")

    # The old version can go: everything still reads back the same.
    keys(f"2:{KEY_2}", 2)
    after = {
        r.pk: (r.identity_number, r.phone, r.current_permit.number) for r in Resident.objects.all()
    }
    assert after == before and len(after) == len(people)
    entries = AuditEntry.objects.filter(action="crypto.rekeyed")
    assert sum(e.data["rows"] for e in entries) == len(tokens())
    assert {e.actor_id for e in entries} == {"command:rekey"}
    text = str([e.data for e in entries])
    assert not any(number in text for values in before.values() for number in values if number)
    assert verify_chain().ok
    # Nothing left to do: a second run changes nothing.
    call_command("rekey")
    assert AuditEntry.objects.filter(action="crypto.rekeyed").count() == entries.count()
