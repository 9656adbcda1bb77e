"""Notifications: in-app inbox and an SMS / e-mail outbox behind one channel interface."""
