"""Errors of policy versions: each carries a stable ``code``, the ``field`` at fault (or
``None``) and a translated message; views answer with ``status``, never a 500.

Codes:

====================================  ====  =====================================================
``policies.invalid``                  422   the content is refused by the policy loader (``field``
                                            is the loader's path: ``items[2].rules[0].points``)
                                            or an approval value is refused (``document_number``,
                                            ``document_date``, ``effective_from``)
``policies.not_allowed``              403   only the center drafts, approves and publishes
``policies.same_person``              403   the proposer may not approve their own draft
``policies.duplicate``                409   a version with this id exists (``field`` ``id``)
``policies.transition_not_allowed``   409   the version is not in the state the step needs
====================================  ====  =====================================================
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from jifen.errors import DomainError


class PolicyVersionError(DomainError):
    code = "policies.error"
    status = 400
    default_message = _("The request cannot be processed.")


class InvalidPolicy(PolicyVersionError):
    code = "policies.invalid"
    status = 422


class NotAllowed(PolicyVersionError):
    code = "policies.not_allowed"
    status = 403


class SamePerson(NotAllowed):
    """Two-person rule: the center proposes, a different member of the center approves."""

    code = "policies.same_person"


class DuplicateVersion(PolicyVersionError):
    code = "policies.duplicate"
    status = 409


class TransitionNotAllowed(PolicyVersionError):
    code = "policies.transition_not_allowed"
    status = 409
