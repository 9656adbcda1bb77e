"""Who performed an audited action."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from jifen.audit.choices import ActorKind
from jifen.audit.errors import MissingActor

#: A system actor is named ``kind:name`` so the log says which feed or job acted.
SYSTEM_ACTOR_PATTERN = re.compile(r"\A[a-z_]+:[a-z0-9_.\-]+\Z")

#: Placeholders that hide who acted; refused even when they look well-formed.
_PLACEHOLDER_IDS = frozenset({"nobody", "anonymous", "none", "null", "system", "unknown"})


@dataclass(frozen=True, slots=True)
class Actor:
    """The actor of an audit entry: a user (by primary key) or a named system actor.

    ``unit`` is the department or town code of a staff user (empty for residents and for
    system actors without a unit).
    """

    kind: ActorKind
    id: str
    unit: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ActorKind.values:
            raise MissingActor(f"unknown actor kind {self.kind!r}")
        object.__setattr__(self, "kind", ActorKind(self.kind))
        if not isinstance(self.id, str) or not self.id.strip():
            raise MissingActor("an audit actor needs a non-empty id")
        if self.id.strip().lower() in _PLACEHOLDER_IDS:
            raise MissingActor(f"{self.id!r} does not name an actor")
        if self.kind == ActorKind.SYSTEM and not SYSTEM_ACTOR_PATTERN.match(self.id):
            raise MissingActor(
                f"system actor {self.id!r} must be named 'kind:name', e.g. 'feed:public_security'"
            )
        if not isinstance(self.unit, str):
            raise MissingActor("an actor's unit must be a string (empty when there is none)")

    @classmethod
    def system(cls, name: str, unit: str = "") -> Actor:
        """A named system actor such as ``feed:public_security`` or ``job:recompute``."""
        return cls(ActorKind.SYSTEM, name, unit)

    @classmethod
    def for_user(cls, user: Any) -> Actor:
        """The actor for a signed-in user (duck-typed: ``pk`` and optional ``unit_code``).

        Anonymous users are refused: whoever records an entry for an anonymous request (a
        failed login, say) must name the actor explicitly instead.
        """
        if user is None or not getattr(user, "is_authenticated", True):
            raise MissingActor("an audit entry needs a signed-in user or a named system actor")
        pk = getattr(user, "pk", None)
        if pk is None:
            raise MissingActor("an audit entry needs a saved user (user.pk is None)")
        unit = getattr(user, "unit_code", "") or ""
        return cls(ActorKind.USER, str(pk), str(unit))
