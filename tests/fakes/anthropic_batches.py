"""The Message Batches half of the Anthropic fake: create, retrieve, results, and a scripted lifecycle.

A batch is `in_progress` from creation (as the API answers `POST /v1/messages/batches`) until
the test ends it: `end(batch_id, outcomes)` gives each request its result (`succeeded` with a
message written like a direct call's, `errored` with an API error object, `canceled`,
`expired`), and `expire(batch_id)` ends it the way a batch outliving its 24 hours does, every
unprocessed request `expired`. Results are served as JSONL from the batch's `results_url`,
the way the SDK reads them (retrieve, then follow the URL).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

OUTCOMES = ("succeeded", "errored", "canceled", "expired")


@dataclass
class FakeBatch:
    id: str
    requests: list[dict[str, Any]]
    created_at: datetime
    status: str = "in_progress"
    ended_at: datetime | None = None
    results: list[dict[str, Any]] = field(default_factory=list)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


class Batches:
    """The batches one fake holds; `message` writes a succeeded request's Message (a dict)."""

    def __init__(self, base_url: Callable[[], str], message: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self._base_url = base_url
        self._message = message
        self._lock = threading.Lock()
        self.batches: dict[str, FakeBatch] = {}

    def create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            return 400, _error("invalid_request_error", "requests: at least one request is required")
        ids = [r.get("custom_id") for r in requests]
        if len(set(ids)) != len(ids):
            return 400, _error("invalid_request_error", "custom_id values must be unique within a batch")
        with self._lock:
            batch = FakeBatch(f"msgbatch_fake_{len(self.batches) + 1:04d}", requests, datetime.now(UTC))
            self.batches[batch.id] = batch
            return 200, self._shape(batch)

    def retrieve(self, batch_id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            batch = self.batches.get(batch_id)
            if batch is None:
                return 404, _error("not_found_error", f"no batch {batch_id}")
            return 200, self._shape(batch)

    def results(self, batch_id: str) -> tuple[int, bytes]:
        with self._lock:
            batch = self.batches.get(batch_id)
            if batch is None or batch.status != "ended":
                return 404, json.dumps(_error("not_found_error", "results are not ready")).encode()
            lines = [json.dumps(result) for result in batch.results]
        return 200, ("\n".join(lines) + "\n").encode()

    def end(self, batch_id: str, outcomes: dict[str, str] | None = None) -> None:
        """End the batch; each request's outcome from `outcomes` by custom_id, `succeeded` otherwise."""
        chosen = outcomes or {}
        with self._lock:
            batch = self.batches[batch_id]
            batch.results = [self._result(r, chosen.get(r["custom_id"], "succeeded")) for r in batch.requests]
            batch.status, batch.ended_at = "ended", datetime.now(UTC)

    def expire(self, batch_id: str) -> None:
        self.end(batch_id, {r["custom_id"]: "expired" for r in self.batches[batch_id].requests})

    def _result(self, request: dict[str, Any], outcome: str) -> dict[str, Any]:
        if outcome == "succeeded":
            result: dict[str, Any] = {"type": "succeeded", "message": self._message(request["params"])}
        elif outcome == "errored":
            result = {"type": "errored", "error": _error("invalid_request_error", "scripted request error")}
        else:
            result = {"type": outcome}
        return {"custom_id": request["custom_id"], "result": result}

    def _shape(self, batch: FakeBatch) -> dict[str, Any]:
        counts = dict.fromkeys(("processing", *OUTCOMES), 0)
        if batch.status == "ended":
            for result in batch.results:
                counts[result["result"]["type"]] += 1
        else:
            counts["processing"] = len(batch.requests)
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.status,
            "request_counts": counts,
            "created_at": _iso(batch.created_at),
            "expires_at": _iso(batch.created_at + timedelta(hours=24)),
            "ended_at": _iso(batch.ended_at),
            "archived_at": None,
            "cancel_initiated_at": None,
            "results_url": f"{self._base_url()}/v1/messages/batches/{batch.id}/results" if batch.ended_at else None,
        }


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}
