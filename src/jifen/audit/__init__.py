"""The append-only, hash-chained audit log.

Filled by later issues; see docs/architecture.md."""
