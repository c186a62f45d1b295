"""The RQ settings of the worker and cron processes: the Procfile starts both with
`--config agents.rq_settings`, and `rq worker` / `rq cron` hand `DICT_CONFIG` to
`logging.config.dictConfig` before they log anything.

RQ alone writes four INFO lines per job (picked up, OK, result kept…) and more per cron
enqueue, which buries everything else `make run` prints. Here RQ's own loggers (`rq.worker`,
`rq.job`, `rq.queue`, `rq.cron`…) speak only from WARNING up, so failures and their
tracebacks still show, while the `agents` loggers speak at INFO: the one line per job that
`agents.job_log.one_line` writes. Once a handler exists RQ adds none of its own and, unless
given a level on its command line, sets none, so these levels are the ones that hold.

RQ reads every UPPERCASE name of this module as a setting (REDIS_URL, QUEUES, NAME…): keep
it to `DICT_CONFIG`. Importing it reads the settings, so the worker and cron refuse to start on
an environment the other processes would refuse too.
"""

from __future__ import annotations

from typing import Any

from app.settings import get_settings

# RQ imports this module before it starts working: a malformed or unsafe environment (a real
# provider with the development SECRET_KEY, say) stops the worker and cron here, with one line.
get_settings()

DICT_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,  # rq's loggers exist before this runs; they must keep working
    "formatters": {"line": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "line", "stream": "ext://sys.stdout"}},
    "root": {"level": "WARNING", "handlers": ["stdout"]},
    "loggers": {"agents": {"level": "INFO"}, "rq": {"level": "WARNING"}},
}
