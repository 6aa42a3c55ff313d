"""The Celery application: workers and beat load tasks from every app's tasks.py."""

import os
from contextlib import ExitStack
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Every task runs once per outbox row it was queued by (core.jobs, core.task_base).
app = Celery("xinqiao", task_cls="core.task_base:OnceTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every job writes under one history context, as a web request does through pghistory's
# middleware: the history rows of a job say which job wrote them, and the history triggers find
# the context set instead of failing to read it once per row (a bulk write without a context
# measured more than three times slower, growing faster than linearly). The context is kept on
# the task's request, which belongs to this one execution (whatever the pool or a redelivery).
_CONTEXT = "xq_history_context"


@task_prerun.connect
def _enter_history_context(task_id: str = "", task: Any = None, **_: Any) -> None:
    import pghistory  # after Django is set up

    if task is None:
        return
    stack = ExitStack()
    stack.enter_context(pghistory.context(job=task.name, job_id=task_id))
    setattr(task.request, _CONTEXT, stack)


@task_postrun.connect
def _exit_history_context(task: Any = None, **_: Any) -> None:
    stack = getattr(task.request, _CONTEXT, None) if task is not None else None
    if stack is not None:
        setattr(task.request, _CONTEXT, None)
        stack.close()


@worker_ready.connect
def _relay_waiting_jobs(**_: Any) -> None:
    """A worker that starts hands over the jobs queued while the broker was down."""
    from core.jobs import outbox_relay  # after Django is set up

    outbox_relay()
