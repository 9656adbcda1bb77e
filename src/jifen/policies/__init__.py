"""Policy versions through the platform: drafts, approval, publication (issue 6)."""
