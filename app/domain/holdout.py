"""The holdout: a stable share of eligible leads is never contacted, to measure true lift.

The bucket comes from a hash of tenant and lead, so a lead's group never flips between scans
or processes, and the same formula is written in SQL by the scanner (see `HOLDOUT_SQL`).
"""

from __future__ import annotations

import hashlib

BUCKETS = 100

# The same bucket in PostgreSQL: first 8 hex digits of md5('<tenant>:<lead>') as an integer, mod 100.
HOLDOUT_SQL = "(('x' || substr(md5({tenant} || ':' || {lead}), 1, 8))::bit(32)::bigint % 100)"


def holdout_bucket(tenant_id: int, lead_id: int) -> int:
    digest = hashlib.md5(f"{tenant_id}:{lead_id}".encode(), usedforsecurity=False).hexdigest()
    return int(digest[:8], 16) % BUCKETS


def is_control(tenant_id: int, lead_id: int, holdout_percent: int) -> bool:
    """True when this lead belongs to the tenant's control group."""
    if not 0 <= holdout_percent <= 50:
        raise ValueError("holdout percent must be between 0 and 50")
    return holdout_bucket(tenant_id, lead_id) < holdout_percent
