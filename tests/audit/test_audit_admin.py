"""The admin shows the log read-only: no add, change or delete, not even for a superuser."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

pytestmark = pytest.mark.django_db


def test_the_log_is_listed_and_shown_but_never_editable(admin_client, write_entries):
    entry = write_entries(2)[0]
    listing = admin_client.get("/admin/audit/auditentry/")
    assert listing.status_code == 200
    assert "permit.status_changed" in listing.content.decode()
    assert "+08:00" in listing.content.decode()
    detail = admin_client.get(f"/admin/audit/auditentry/{entry.pk}/change/")
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert admin_client.get("/admin/audit/auditentry/add/").status_code == 403
    assert admin_client.get(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code == 403
    response = admin_client.post(
        f"/admin/audit/auditentry/{entry.pk}/change/", {"action": "claim.forged"}
    )
    assert response.status_code == 403


def test_only_a_view_permission_exists_to_grant():
    codenames = set(
        Permission.objects.filter(content_type__app_label="audit").values_list(
            "codename", flat=True
        )
    )
    assert codenames == {"view_auditentry"}
