"""Thin Celery tasks of the jury."""

from celery import shared_task


@shared_task(name="jury.remind_late_jurors")
def remind_late_jurors():
    """Daily (beat): one reminder a day to each juror late on a call under review."""
    from jury.services.reminders import remind_late_jurors as remind

    return remind()


from jury.tasks_exports import build_export  # noqa: E402, F401 - registered with the worker from here
