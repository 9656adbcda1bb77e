"""Department data feeds (部门数据对接): imports, batches, row reports.

Filled by later issues; see docs/architecture.md."""
