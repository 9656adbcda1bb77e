"""The REST API (DRF): resident self-service, scoped staff look-ups, the calculator.

Feed imports (department tokens) live in ``jifen.feeds.urls``, mounted at ``/api/feeds/``.
Access rules are those of :mod:`jifen.accounts.access`; this package only adapts them.
"""
