"""Domain errors of the department feeds, each with a stable ``code`` and a translated message.

Row-level problems are not exceptions of this module: a bad row is rejected in the batch report
(:class:`jifen.feeds.validation.RowRejected`) and the good rows are kept.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class FeedError(Exception):
    """Base class: ``code`` is stable (API bodies, command output, tests)."""

    code = "feed_error"
    default_message = _("The feed request was refused.")

    def __init__(self, message: object = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(str(self.message))


class UnknownFeed(FeedError):
    code = "unknown_feed"
    default_message = _("There is no such feed.")


class FeedNotOwned(FeedError):
    """The sending department is not the department of the feed."""

    code = "feed_not_owned"
    default_message = _("This department does not send this feed.")


class UnknownDepartment(FeedError):
    code = "unknown_department"
    default_message = _("There is no such department.")


class FeedFileRefused(FeedError):
    """The file cannot be read at all (encoding, JSON/CSV structure, header): nothing applied.

    ``reason`` is English for the report and the log; ``reason_zh`` the same in Chinese.
    """

    code = "feed_file_refused"

    def __init__(self, reason: str, reason_zh: str = "", *, encoding: str = "") -> None:
        self.reason = reason
        self.reason_zh = reason_zh or reason
        self.encoding = encoding
        super().__init__(reason)
