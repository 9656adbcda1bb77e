"""Operations: backup and restore (``jifen backup`` / ``jifen restore``) and the retention
of evidence files. See docs/operations.md."""
