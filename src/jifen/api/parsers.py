"""JSON with numbers that have a fraction read as ``Decimal`` (points are exact decimals)."""

from __future__ import annotations

import json
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class DecimalJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(stream.read().decode(encoding), parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(_("The body is not valid JSON: %(error)s") % {"error": exc}) from None
