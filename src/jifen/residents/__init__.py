"""Residents and residence permits (居住证), permit status history.

Filled by later issues; see docs/architecture.md."""
