"""The bulk path: totals and subtotals of many residents at once, vectorised with numpy.

Same policy selection, same semantics, same numbers as :func:`jifen.engine.evaluate` (a
property test compares them resident by resident and item by item), but no explanation: this
path is for ranking, what-if runs and cross-checks over a whole population. Stored scores are
written by the single-resident engine, because every stored score carries its explanation
(see :mod:`jifen.scores.services`).

Exactness: every amount is an ``int64`` count of hundredths. Policy points have at most two
decimal places (the policy loader refuses more), stored quantities have two places, and units
are whole numbers, so every step (floor division into units, sums, caps) is integer
arithmetic. A quantity that is not a whole number of hundredths is refused (:class:`NotExact`)
rather than rounded.

Modules: :mod:`.population` (the columnar input), :mod:`.check` (what
:func:`jifen.engine.check_profile` refuses), :mod:`.evaluate` (the scoring).
"""

from jifen.scores.bulk.evaluate import BulkResult, engine_summary, evaluate_bulk, evaluate_profiles
from jifen.scores.bulk.population import NO_DATE, NotExact, Population, PopulationBuilder, money

__all__ = [
    "NO_DATE",
    "BulkResult",
    "NotExact",
    "Population",
    "PopulationBuilder",
    "engine_summary",
    "evaluate_bulk",
    "evaluate_profiles",
    "money",
]
