"""Thin Celery tasks of the jury."""

from celery import shared_task


@shared_task(name="jury.remind_late_jurors")
def remind_late_jurors():
    """Daily (beat): one reminder a day to each juror late on a call under review."""
    from jury.services.reminders import remind_late_jurors as remind

    return remind()


from jury.tasks_exports import build_export  # noqa: E402, F401 - registered with the worker from here

# The selection report: an hour of broker visibility covers the time limit, and a worker lost mid-render
# gets the task again (acks_late + reject_on_worker_lost); `build_report` then starts over from the snapshot.
REPORT_TIME_LIMIT = 900


@shared_task(name="jury.build_selection_report", acks_late=True, reject_on_worker_lost=True,
             time_limit=REPORT_TIME_LIMIT, soft_time_limit=REPORT_TIME_LIMIT - 30)
def build_selection_report(*, report_id):
    """Renders one selection report (once: a DONE report is left as it is)."""
    import logging

    from jury.models import SelectionReport
    from jury.report.services import build_report

    report = SelectionReport.objects.select_related("call").filter(pk=report_id).first()
    if report is None:
        logging.getLogger(__name__).info("selection report %s is gone", report_id)
        return None
    return build_report(report=report).status
