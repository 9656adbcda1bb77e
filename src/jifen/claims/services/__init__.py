"""The claims services (module ``jifen.claims.services``), split by use case:

- :mod:`.filing` — ``save_draft``, ``submit_claim``, ``withdraw``;
- :mod:`.review` — ``accept``, ``refuse``, ``request_materials``, ``supplement``, ``extend``,
  ``decide``;
- :mod:`.corrections` — ``file_correction``.

Every step: check → ``transaction.atomic`` + ``select_for_update`` → transition → save →
audit (``record``) → notifications, in one transaction. Time is the ``now`` argument. Errors
are :class:`jifen.claims.errors.ClaimError` with a stable ``code`` and the ``field``.
"""

from jifen.claims.services._common import ClaimItemInput, ItemDecision, allowed
from jifen.claims.services.corrections import file_correction
from jifen.claims.services.filing import save_draft, submit_claim, withdraw
from jifen.claims.services.review import (
    accept,
    decide,
    extend,
    refuse,
    request_materials,
    supplement,
)

__all__ = [
    "ClaimItemInput",
    "ItemDecision",
    "accept",
    "allowed",
    "decide",
    "extend",
    "file_correction",
    "refuse",
    "request_materials",
    "save_draft",
    "submit_claim",
    "supplement",
    "withdraw",
]
