"""Where a benchmark's CPU went: the machine, and the process trees it started, over a timed window.

On a 2-core machine shared by the load, the api, the workers and PostgreSQL, a throughput figure
means little without the split. Times are CPU seconds per wall second (1.0 = one core busy);
processes that exited during the window count through their parent's reaped-children times.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

Group = Callable[[], list[psutil.Process]]


def busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle since boot (all cores)."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def tree_seconds(roots: list[psutil.Process]) -> dict[int, float]:
    """CPU seconds of each process under `roots` (themselves included), with their reaped children."""
    seconds: dict[int, float] = {}
    for root in roots:
        try:
            members = [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
        for process in members:
            try:
                t = process.cpu_times()
                seconds[process.pid] = t.user + t.system + t.children_user + t.children_system
            except psutil.Error:
                continue
    return seconds


def postgres_roots() -> list[psutil.Process]:
    """The PostgreSQL server's postmaster (parent of every backend; all databases)."""
    for process in psutil.process_iter(["name", "ppid"]):
        if process.info["name"] == "postgres" and process.info["ppid"] == 1:
            return [process]
    return []


ROLES = (
    ("autovacuum", "postgres_autovacuum"),
    ("walwriter", "postgres_wal_checkpoint_bgwriter"),
    ("checkpointer", "postgres_wal_checkpoint_bgwriter"),
    ("background writer", "postgres_wal_checkpoint_bgwriter"),
)


def postgres_roles(database: str) -> dict[str, float]:
    """CPU seconds of the PostgreSQL server by role: backends of `database`, of other databases,
    autovacuum, the WAL writer, checkpointer and background writer, and processes that exited
    (their time counts in the postmaster's reaped children, whatever they were)."""
    roles: dict[str, float] = defaultdict(float)
    for root in postgres_roots():
        try:
            t = root.cpu_times()
            roles["postgres_exited_processes"] += t.children_user + t.children_system
            children = root.children()
        except psutil.Error:
            continue
        for process in children:
            try:
                title = " ".join(process.cmdline())
                t = process.cpu_times()
            except psutil.Error:
                continue
            role = next((name for key, name in ROLES if key in title), None)
            if role is None:
                role = "postgres_this_database" if f" {database} " in f"{title} " else "postgres_other"
            roles[role] += t.user + t.system
    return roles


@dataclass
class CpuWindow:
    """CPU use of named process groups between `start()` and `stop()`, and of this process's own threads
    (`load_client`: the bench's posting clients)."""

    groups: dict[str, Group]
    database: str | None = None
    """When set, PostgreSQL's time is also split by role (`postgres_roles`)."""
    started: float = 0.0
    busy: float = 0.0
    own: float = 0.0
    before: dict[str, dict[int, float]] = field(default_factory=dict)
    split: dict[str, float] = field(default_factory=dict)
    roles: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        self.before = {name: tree_seconds(roots()) for name, roots in self.groups.items()}
        self.roles = postgres_roles(self.database) if self.database else {}
        self.busy = busy_seconds()
        self.own = time.process_time()
        self.started = time.monotonic()

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self.started
        machine = (busy_seconds() - self.busy) / wall
        self.split = {
            "machine_busy": round(machine, 2),
            "load_client": round((time.process_time() - self.own) / wall, 2),
        }
        for name, roots in self.groups.items():
            after = tree_seconds(roots())
            used = sum(t - self.before[name].get(pid, 0.0) for pid, t in after.items())
            self.split[name] = round(used / wall, 2)
        ours = sum(v for k, v in self.split.items() if k != "machine_busy")
        self.split["everything_else"] = round(max(machine - ours, 0.0), 2)
        if self.database:
            by_role = postgres_roles(self.database)
            for role in sorted(by_role):
                self.split[role] = round((by_role[role] - self.roles.get(role, 0.0)) / wall, 2)
        return self.split
