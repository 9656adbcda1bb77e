"""Accounts, roles and login protection (lockout, session limits)."""
