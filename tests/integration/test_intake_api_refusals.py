"""The intake API's refusals and its documentation, through the real app with a real API key: a request
without a valid key, with a body that is not the documented JSON, too big a batch or body, is refused
whole with a reason and writes nothing; the OpenAPI documents both routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.services import api_keys
from tests.integration.intake_world import NOW, World, build, client_at, count, post, sql


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


@pytest.fixture
def world(db: Engine) -> World:
    return build(db)


@pytest.fixture
def client() -> Iterator[TestClient]:
    yield from client_at(NOW)


def leads(client: TestClient, key: str, items: list[Any], **headers: str) -> Any:
    return post(client, "/api/leads", key, {"leads": items}, **headers)


def test_without_a_valid_key_nothing_is_written(db: Engine, client: TestClient, world: World) -> None:
    body = {"leads": [{"email": "ada@example.com"}]}
    for headers in ({}, {"Authorization": "Bearer lre_nope"}, {"Authorization": f"Basic {world.key}"}):
        answer = client.post("/api/leads", json=body, headers=headers)
        assert (answer.status_code, answer.headers["WWW-Authenticate"]) == (401, "Bearer")
    key_id = sql(db, "SELECT id FROM api_keys WHERE tenant_id = :t", t=world.acme)[0].id
    api_keys.revoke_key(key_id=key_id)
    assert post(client, "/api/leads", world.key, body).status_code == 401
    assert count(db, "leads") == 0


@pytest.mark.parametrize(
    ("content", "content_type", "status", "detail"),
    [
        (b'{"leads": [{"email": "a@x.com"}]', "application/json", 400, "the body is not valid JSON: "),
        (
            b'{"leads": [{"deal_value": NaN, "email": "a@x.com"}]}',
            "application/json",
            400,
            "the body is not valid JSON: NaN",
        ),
        (b"\xff\xfe{", "application/json", 400, "the body is not UTF-8"),
        (b'[{"email": "a@x.com"}]', "application/json", 400, 'the body must be a JSON object with one field, "leads"'),
        (
            b'{"leads": [], "extra": 1}',
            "application/json",
            400,
            'the body must be a JSON object with one field, "leads"',
        ),
        (b'{"leads": []}', "application/json", 400, '"leads" must be a list of 1 to 1,000 items'),
        (b'{"leads": {"email": "a@x.com"}}', "application/json", 400, '"leads" must be a list of 1 to 1,000 items'),
        (b"email=a@x.com", "application/x-www-form-urlencoded", 415, "send the body as application/json"),
        (b"email,phone\na@x.com,\n", "text/csv", 415, "send the body as application/json, not text/csv"),
        (b"{}", "", 415, "send the body as application/json, not no content type"),
    ],
)
def test_a_malformed_request_is_refused_whole(
    db: Engine, client: TestClient, world: World, content: bytes, content_type: str, status: int, detail: str
) -> None:
    headers = {"Authorization": f"Bearer {world.key}"}
    if content_type:
        headers["Content-Type"] = content_type
    answer = client.post("/api/leads", content=content, headers=headers)
    assert answer.status_code == status
    assert answer.json()["detail"].startswith(detail)
    assert count(db, "leads") == 0


def test_a_multipart_upload_is_not_the_json_api(db: Engine, client: TestClient, world: World) -> None:
    answer = client.post(
        "/api/leads",
        files={"file": ("leads.csv", b"email\na@x.com\n", "text/csv")},
        headers={"Authorization": f"Bearer {world.key}"},
    )
    assert answer.status_code == 415
    assert answer.json()["detail"] == "send the body as application/json, not multipart/form-data"
    assert count(db, "leads") == 0


def test_too_big_a_batch_or_body_is_413(db: Engine, client: TestClient, world: World) -> None:
    many = leads(client, world.key, [{"email": f"l{n}@example.com"} for n in range(1001)])
    assert (many.status_code, many.json()["detail"]) == (413, '"leads" has 1,001 items; send at most 1,000 per request')
    huge = client.post(
        "/api/leads",
        content=b'{"leads": [{"email": "a@x.com", "company": "' + b"x" * (5 * 1024 * 1024) + b'"}]}',
        headers={"Authorization": f"Bearer {world.key}", "Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    assert huge.json()["detail"].startswith("the body is ")
    assert count(db, "leads") == 0
    assert [
        r["status"]
        for r in leads(client, world.key, [{"email": f"l{n}@example.com"} for n in range(1000)]).json()["results"]
    ] == ["created"] * 1000
    assert count(db, "leads") == 1000


def test_the_openapi_documents_both_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, name in (("/api/leads", "leads"), ("/api/activities", "activities")):
        route = spec["paths"][path]["post"]
        assert route["security"] == [{"ApiKey": []}]
        assert {"200", "400", "401", "413", "415", "422"} <= set(route["responses"])
        assert [p["name"] for p in route["parameters"]] == ["Idempotency-Key"]
        body = route["requestBody"]["content"]["application/json"]["schema"]
        assert body["required"] == [name]
        assert body["properties"][name]["maxItems"] == 1000
        assert route["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ItemResults"
        }
    lead = spec["paths"]["/api/leads"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(lead["properties"]["leads"]["items"]["properties"]) == {
        "external_id",
        "first_name",
        "last_name",
        "full_name",
        "company",
        "title",
        "email",
        "phone",
        "timezone",
        "source",
        "stage",
        "deal_value",
        "tags",
        "attributes",
        "consent_email",
        "consent_sms",
        "last_activity_at",
    }
    activity = spec["paths"]["/api/activities"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert activity["properties"]["activities"]["items"]["required"] == ["kind", "occurred_at"]
    status = spec["components"]["schemas"]["ItemResult"]["properties"]["status"]
    assert status["enum"] == ["created", "updated", "rejected"]
