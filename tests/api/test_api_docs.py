"""/api/docs/: the OpenAPI document in Swagger UI, served from the platform's own static files."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_the_docs_page_reads_the_served_schema_from_our_own_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/schema/" in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui" in a for a in assets)
    # No foreign CDN (PIPL Art. 36): every asset comes from this host.
    assert all(a.startswith("/") for a in assets), assets
    bundle = next(a for a in assets if a.endswith("swagger-ui-bundle.js"))
    # A static file of the platform (collectstatic ships it; the test client serves none).
    assert finders.find(bundle.removeprefix(settings.STATIC_URL)) is not None


def test_the_docs_page_is_not_part_of_the_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/docs/" not in schema["paths"]
