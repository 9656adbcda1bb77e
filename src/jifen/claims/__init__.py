"""Points claims (积分申请) for city items and their review by departments.

Filled by later issues; see docs/architecture.md."""
