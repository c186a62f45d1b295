"""One line per agent job, written by us: what ran, for which tenant, what it did, how long.

Every job function of `agents/` is wrapped in `one_line`. It is the only INFO line the worker
prints per job (`agents/rq_settings.py` keeps RQ's own loggers at WARNING), so the terminal of
`make run` reads as a list of what the agents did.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Callable, Mapping
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def one_line(job: Callable[P, R]) -> Callable[P, R]:
    """Log one line when the job `job` ends: INFO with its counts, or WARNING with the error
    (which propagates, so RQ still records the failure and logs the traceback)."""
    log = logging.getLogger(job.__module__)
    signature = inspect.signature(job)

    @functools.wraps(job)
    def logged(*args: P.args, **kwargs: P.kwargs) -> R:
        tenant = signature.bind_partial(*args, **kwargs).arguments.get("tenant_id")
        subject = job.__name__ if tenant is None else f"{job.__name__} for tenant {tenant}"
        started = time.monotonic()
        try:
            result = job(*args, **kwargs)
        except Exception as error:
            seconds = time.monotonic() - started
            log.warning("%s failed after %.2f s: %s", subject, seconds, headline(error))
            raise
        log.info("%s in %.2f s: %s", subject, time.monotonic() - started, did(result))
        return result

    return logged


def did(result: object) -> str:
    """`enrolled 12, scheduled 3` from a job's counts; `done` when it returned none."""
    if isinstance(result, Mapping) and result:
        return ", ".join(f"{name} {value}" for name, value in result.items())
    return "done" if not result else str(result)


def headline(error: BaseException) -> str:
    """`IntegrityError: insert or update…`: the error's type and the first line of its message
    (the traceback, with the rest, follows from RQ at ERROR)."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
