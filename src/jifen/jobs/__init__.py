"""The database-backed job queue (no broker): atomic claims, recorded runs."""
