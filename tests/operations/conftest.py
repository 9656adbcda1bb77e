"""The claims tests' fixtures (a resident with an account, a reviewer, upload and submit
helpers that drive the real services), for the retention and fault-injection tests."""

from tests.claims.conftest import (  # noqa: F401  (fixtures)
    _fast,
    center,
    resident,
    resident_user,
    submit,
    town_reviewer,
    upload,
)
