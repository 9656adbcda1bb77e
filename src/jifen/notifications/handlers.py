"""Job handlers of the notifications app."""

from __future__ import annotations

from jifen.jobs.registry import handler
from jifen.notifications.services import DELIVER_JOB, deliver


@handler(DELIVER_JOB)
def deliver_message(context):
    last = context.attempt >= context.job.max_attempts
    status = deliver(int(context.args["message"]), now=context.now(), last_attempt=last)
    return {"status": str(status)}
