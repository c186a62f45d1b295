"""The Agents page's machinery, from Redis through `app/services/agent_status.py`: queue depths
and workers, failed jobs with a Retry, and the cron schedulers. Each part refreshes on its own
fragment timer, so a failing worker or a growing queue shows without touching the page.

Rendered by `pages/agent_activity.py` (a module of its own so the page stays readable).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from app.services import agent_status
from app.services.agent_status import CronSchedulerStatus, FailedJob, QueueDepth, WorkerStatus
from components import format as fmt
from components import tables
from components.metrics import Card, metric_cards
from pages import data, session

FAILED_LIMIT = 50
RETRY_PICK = "agents.retry_pick"
RETRY_NOTE = "agents.retry_note"
VIEWER_ROLE = "viewer"

# --- queues and workers (Redis) --------------------------------------------------------------


def frame_of(items: Sequence[object], columns: Sequence[str]) -> pd.DataFrame:
    """A table of dataclasses, with its columns even when there is no row."""
    return pd.DataFrame([dataclasses.asdict(item) for item in items], columns=list(columns))  # type: ignore[call-overload]


def queue_cards(queues: Sequence[QueueDepth], workers: Sequence[WorkerStatus]) -> list[Card]:
    cards = [
        Card(
            f"Queue {q.name}",
            fmt.count(q.queued),
            f"Jobs waiting in the '{q.name}' queue now ({q.started} running, {q.failed} failed, "
            f"{q.scheduled} scheduled for later).",
        )
        for q in queues
    ]
    alive = sum(1 for w in workers if not w.stale)
    cards.append(
        Card(
            "Workers alive",
            fmt.count(alive),
            "Workers registered in Redis whose heartbeat is recent; each takes jobs from the queues it lists.",
            delta=f"{len(workers) - alive} stale" if len(workers) > alive else None,
            alarm=True,
        )
    )
    return cards


QUEUE_COLUMNS = {
    "name": tables.text_column("Queue"),
    "queued": tables.number_column("Waiting", help="Jobs enqueued and not yet picked up by a worker."),
    "started": tables.number_column("Running", help="Jobs a worker is running now."),
    "failed": tables.number_column("Failed", help="Jobs that raised; they stay until retried or cleared."),
    "scheduled": tables.number_column("Scheduled", help="Jobs waiting for their start time (retries with backoff)."),
    "deferred": tables.number_column("Deferred", help="Waiting for another job to finish."),
}

WORKER_COLUMNS = {
    "name": tables.text_column("Worker"),
    "alive": tables.text_column("Alive"),
    "state": tables.text_column("State"),
    "queues": tables.text_column("Queues"),
    "current_function": tables.text_column("Current job"),
    "current_job_id": tables.text_column("Job id"),
    "last_heartbeat": tables.time_column("Last heartbeat"),
    "host": tables.text_column("Host"),
    "pid": tables.number_column("PID", format="%d", help="The worker's process id on its host."),
    "successful": tables.number_column("Done", help="Jobs this worker finished since it started."),
    "failed": tables.number_column("Failed", help="Jobs that raised in this worker since it started."),
}


def worker_frame(workers: Sequence[WorkerStatus]) -> pd.DataFrame:
    frame = frame_of(workers, [f.name for f in dataclasses.fields(WorkerStatus)])
    frame["queues"] = [", ".join(q) for q in frame["queues"]]
    frame["alive"] = ["no (stale heartbeat)" if stale else "yes" for stale in frame["stale"]]
    return frame


@st.fragment(run_every="5s")
def live_queues() -> None:
    queues, workers = data.queue_overview(), data.workers()
    metric_cards(queue_cards(queues, workers))
    tables.data_table(
        frame_of(queues, list(QUEUE_COLUMNS)),
        QUEUE_COLUMNS,
        empty=("No queue", "The queues appear once anything is enqueued."),
        key="agents.queues",
    )
    st.subheader("Workers")
    tables.data_table(
        worker_frame(workers),
        WORKER_COLUMNS,
        empty=(
            "No worker is running",
            "Jobs wait in their queues until one starts: `make run` starts workers; by hand, "
            "`rq worker high default low` (see the Procfile).",
        ),
        key="agents.workers",
    )


# --- failed jobs -----------------------------------------------------------------------------

FAILED_COLUMNS = {
    "ended_at": tables.time_column("Failed"),
    "queue": tables.text_column("Queue"),
    "function": tables.text_column("Function"),
    "exc_summary": tables.text_column("Error", width="large"),
    "id": tables.text_column("Job id"),
}


def may_act() -> bool:
    who = session.identity()
    return who is not None and who.role != VIEWER_ROLE


def retry_picked(tenant_id: int) -> None:
    """The Retry button's callback: requeue the picked job, say what happened, refresh the figures."""
    job_id = st.session_state.get(RETRY_PICK)
    if not isinstance(job_id, str) or not may_act():
        return
    try:
        who = session.identity()
        operator_id = who.operator_id if who is not None else -1  # no identity: refused by the service
        queue = agent_status.retry_failed_job(job_id, tenant_id=tenant_id, operator_id=operator_id)
    except PermissionError as refused:
        st.session_state[RETRY_NOTE] = ("warning", str(refused))
    except agent_status.RetryError:
        st.session_state[RETRY_NOTE] = ("warning", f"Job {job_id} is no longer failed: already retried, or expired.")
    else:
        st.session_state[RETRY_NOTE] = ("success", f"Job {job_id} is back in the '{queue}' queue.")
    data.forget_queues()


def retry_note() -> None:
    note = st.session_state.pop(RETRY_NOTE, None)
    if isinstance(note, tuple):
        kind, text = note
        (st.success if kind == "success" else st.warning)(text)


def retry_controls(tenant_id: int, jobs: Sequence[FailedJob]) -> None:
    labels = {job.id: f"{job.function} · {job.queue} · {job.id}" for job in jobs}
    pick, go = st.columns([4, 1], vertical_alignment="bottom")
    pick.selectbox("Failed job", list(labels), format_func=labels.__getitem__, key=RETRY_PICK)
    go.button(
        "Retry",
        key="agents.retry",
        icon=":material/replay:",
        disabled=not may_act(),
        help="Put the job back on its queue; a worker runs it again (every job is safe to run twice).",
        on_click=retry_picked,
        args=(tenant_id,),
    )


@st.fragment(run_every="10s")
def failed_section(tenant_id: int) -> None:
    """This tenant's failed jobs (and, for admins, the tenant-less ones), newest first, with a Retry."""
    retry_note()
    jobs = data.failed_jobs(tenant_id, FAILED_LIMIT, session.sees_platform())
    tables.data_table(
        frame_of(jobs, list(FAILED_COLUMNS)),
        FAILED_COLUMNS,
        empty=("No failed job", "A job that raises stays here for 7 days with its error; retry it once fixed."),
        key="agents.failed",
    )
    if jobs:
        retry_controls(tenant_id, jobs)


# --- scheduler -------------------------------------------------------------------------------

CRON_COLUMNS = {
    "scheduler": tables.text_column("Scheduler"),
    "name": tables.text_column("Job"),
    "function": tables.text_column("Function"),
    "queue": tables.text_column("Queue"),
    "every": tables.text_column("Every"),
    "latest_enqueue": tables.time_column("Last enqueued"),
    "next_enqueue": tables.time_column("Next"),
}


def cron_frame(schedulers: Sequence[CronSchedulerStatus]) -> pd.DataFrame:
    rows = [{"scheduler": s.name, **dataclasses.asdict(job)} for s in schedulers for job in s.jobs]
    return pd.DataFrame(rows, columns=list(CRON_COLUMNS))


@st.fragment(run_every="15s")
def scheduler_section() -> None:
    """The cron processes registered in Redis and what they enqueue; the heartbeat job proves
    the rest (cron enqueued it and a worker ran it)."""
    now = session.now()
    schedulers = data.cron_schedulers()
    alive = [s for s in schedulers if not s.stale]
    metric_cards(
        [
            Card("Cron schedulers", fmt.count(len(alive)), "`rq cron` processes with a recent heartbeat in Redis."),
            Card(
                "Cron jobs registered",
                fmt.count(sum(len(s.jobs) for s in alive)),
                "Periodic jobs the live schedulers enqueue (agents/cron.py).",
            ),
        ]
    )
    st.caption(f"Newest heartbeat job (enqueued by cron, run by a worker): {fmt.ago(data.last_heartbeat(), now)}.")
    for s in schedulers:
        state = "stale, no recent heartbeat" if s.stale else f"heartbeat {fmt.ago(s.last_heartbeat, now)}"
        st.text(f"{s.name} · {s.host} pid {s.pid} · {state}")
    tables.data_table(
        cron_frame(schedulers),
        CRON_COLUMNS,
        empty=(
            "No cron scheduler registered",
            "The schedules run from `rq cron agents/cron.py` (`make run` starts it); exactly one should run.",
        ),
        key="agents.cron",
    )
