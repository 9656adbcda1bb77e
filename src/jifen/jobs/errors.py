"""Errors of the job queue; each carries a stable ``code``."""

from __future__ import annotations


class JobError(Exception):
    """Base class of job queue errors."""

    code = "job.error"


class UnknownJobKind(JobError, LookupError):
    """No handler is registered for the job's kind."""

    code = "job.unknown_kind"


class DuplicateJobKind(JobError):
    """Two different handlers claim one kind."""

    code = "job.duplicate_kind"


class JobLost(JobError):
    """The job is no longer this worker's (it was requeued as stale, or finished elsewhere)."""

    code = "job.lost"
