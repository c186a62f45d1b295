"""Small helpers shared by the suite's fixtures (one copy, not one per folder)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import sqlalchemy as sa

from db.models import Base

# Debian's Chromium, as the end-to-end tests and the first-paint bench drive it (Playwright
# cannot download its own browser here); no sandbox, GPU or background traffic in a container.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def midday_zone() -> str:
    """A fixed-offset zone where it is now between 12:00 and 12:59: texts to a lead there are
    inside the SMS hours (08-21 local) now and for the next 8 hours of the sender's clock,
    whatever the hour the suite runs at (Etc/GMT-N is UTC+N)."""
    offset = 12 - datetime.now(UTC).hour  # from -11 to +12, all of which exist
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def truncate_all(engine: sa.Engine) -> None:
    """Empty every table of ours and restart the ids, for tests that count rows.

    Only the tables holding rows are emptied: a TRUNCATE makes new files for a table and each of
    its indexes, so truncating all sixty-odd tables took about 0.2 s, twice per test, most of
    them empty or holding a few rows. A few rows are deleted (children first); a table holding
    many is truncated with what refers to it. Every sequence restarts, the empty tables' too (a
    test may have inserted and deleted).
    """
    tables = Base.metadata.sorted_tables
    probe = " UNION ALL ".join(
        f"SELECT '{t.name}', (SELECT count(*) FROM (SELECT 1 FROM \"{t.name}\" LIMIT {_FEW + 1}) AS r)" for t in tables
    )
    with engine.begin() as conn:
        filled = {name: rows for name, rows in conn.execute(sa.text(probe)).all() if rows}
        many = [name for name, rows in filled.items() if rows > _FEW]
        if many:
            quoted = ", ".join(f'"{name}"' for name in many)
            conn.execute(sa.text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        for table in reversed(tables):
            if table.name in filled and table.name not in many:
                conn.execute(sa.text(f'DELETE FROM "{table.name}"'))
        conn.execute(_RESTART_SEQUENCES)


_FEW = 200
_RESTART_SEQUENCES = sa.text(
    """
    SELECT setval(s.oid::regclass, seq.seqstart, false)
    FROM pg_class AS s JOIN pg_sequence AS seq ON seq.seqrelid = s.oid
    WHERE s.relkind = 'S' AND s.relnamespace = 'public'::regnamespace
    """
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# What a production environment with a real provider must carry (app/settings.production_refusal):
# a random secret of 32+ characters and an https base. Written out, not generated, so a test's
# tokens are the same on every run.
PRODUCTION_SECRET_KEY = "kq3V9xZr7TbW2mLp8YdN4cHs6FjA0uGe"
PRODUCTION_BASE_URL = "https://lre.example"
PRODUCTION_ENV = {"SECRET_KEY": PRODUCTION_SECRET_KEY, "PUBLIC_BASE_URL": PRODUCTION_BASE_URL}
