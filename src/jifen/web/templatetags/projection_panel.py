"""``{% projection_panel as panel %}``: the default projection panel of the signed-in
resident, for ``web/_projection.html`` included on a page whose view did not compute it."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def projection_panel(context: template.Context) -> Any:
    from jifen.web.projection import panel_for_request

    request = context.get("request")
    return panel_for_request(request) if request is not None else None
