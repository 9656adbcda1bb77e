"""The scoring engine: pure Python, no Django import.

Policy data in, explained score out::

    from jifen.engine import evaluate, load_policies
    result = evaluate(profile_dict, evaluation_date, review_date, load_policies())
"""

from jifen.engine.errors import NoPolicyInForce, PolicyError, ProfileError
from jifen.engine.evaluate import check_profile, evaluate
from jifen.engine.policy import (
    Policy,
    PolicySelection,
    PolicySet,
    load_policies,
    load_policy_file,
)
from jifen.engine.profile import Profile, parse_profile
from jifen.engine.result import Line, ScoreResult, Status

__all__ = [
    "Line",
    "NoPolicyInForce",
    "Policy",
    "PolicyError",
    "PolicySelection",
    "PolicySet",
    "Profile",
    "ProfileError",
    "ScoreResult",
    "Status",
    "check_profile",
    "evaluate",
    "load_policies",
    "load_policy_file",
    "parse_profile",
]
