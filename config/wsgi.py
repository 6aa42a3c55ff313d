"""WSGI entry point for gunicorn."""

import gc
import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()


def tune_garbage_collector() -> None:
    """A request makes and drops hundreds of thousands of objects, nearly all freed at once by
    their reference counts; Python's collector still walks its youngest generation every 700
    allocations, a few times a request (about 6 % of the time of the benchmark's mix of
    requests, replayed in-process). It runs after WEB_GC_THRESHOLD allocations instead, and
    what was loaded before the first request (modules, URL patterns) is kept out of every walk.
    Cycles are still collected: only later, in larger batches."""
    if settings.WEB_GC_THRESHOLD:
        gc.set_threshold(settings.WEB_GC_THRESHOLD, *gc.get_threshold()[1:])
    gc.freeze()


tune_garbage_collector()
