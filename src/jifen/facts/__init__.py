"""The fact store: every scoring fact with its source; corrections supersede, never edit."""
