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

    Only the tables holding rows are truncated (CASCADE takes what refers to them): a TRUNCATE
    makes new files for a table and each of its indexes, so emptying all sixty-odd tables took
    about 0.2 s, twice per test, most of them empty already. Every sequence restarts, the empty
    tables' too (a test may have inserted and deleted).
    """
    names = [table.name for table in Base.metadata.sorted_tables]
    probe = " UNION ALL ".join(f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in names)
    with engine.begin() as conn:
        filled = list(conn.execute(sa.text(probe)).scalars())
        if filled:
            quoted = ", ".join(f'"{name}"' for name in filled)
            conn.execute(sa.text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        conn.execute(_RESTART_SEQUENCES)


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
