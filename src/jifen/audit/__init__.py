"""The append-only, hash-chained audit log.

One entry per business action, written by :func:`jifen.audit.services.record` inside the
caller's transaction. Entries are chained by SHA-256 (:mod:`jifen.audit.hashing`), the database
refuses UPDATE and DELETE on the table (:mod:`jifen.audit.triggers`), and
:func:`jifen.audit.chain.verify_chain` (``jifen audit verify``) reports the first broken entry.
"""
