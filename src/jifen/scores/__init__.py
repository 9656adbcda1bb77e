"""Stored scores (积分) with explanation, policy versions and status (valid / lapsed).

Filled by later issues; see docs/architecture.md."""
