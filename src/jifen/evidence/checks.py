"""System check: the evidence store must not be inside a directory the web server serves."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core import checks

from jifen.evidence.storage import evidence_root


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


@checks.register(checks.Tags.security)
def evidence_root_outside_web_roots(app_configs=None, **kwargs):
    root = evidence_root()
    errors = []
    for name in ("STATIC_ROOT", "MEDIA_ROOT"):
        served = getattr(settings, name, None)
        if served and (_inside(root, Path(served)) or _inside(Path(served), root)):
            errors.append(
                checks.Error(
                    f"JIFEN_EVIDENCE_ROOT ({root}) overlaps {name} ({served}): evidence files "
                    "must never be served by the web server",
                    id="jifen.evidence.E001",
                )
            )
    return errors
