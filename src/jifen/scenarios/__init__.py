"""Application scenarios (应用场景), enrollments, publication and re-examination.

Filled by later issues; see docs/architecture.md."""
