from django import template

register = template.Library()


@register.filter
def get(mapping, key):
    """``errors|get:name``: the value of ``key`` in a mapping (``None`` when absent)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
