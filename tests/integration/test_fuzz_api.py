"""Every route of the api fuzzed with schemathesis from the app's own OpenAPI, in-process over ASGI,
on real PostgreSQL and Redis, with a real API key: no 500, every answer as the schema says, and
every refusal says which field is wrong. Signed webhooks get a valid signature computed over each
generated body, so the fuzz reaches past the signature check."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection
from sqlalchemy import Engine

from app.api import create_app
from app.web import twilio
from app.web.intake_body import intake_clock
from app.web.sendgrid_events import webhook_clock
from tests.fuzz_tally import examples, tried
from tests.integration import twilio_door
from tests.integration.intake_world import NOW, World, build, sql
from tests.integration.sendgrid.conftest import configure_key
from tests.sendgrid_signing import SigningKey, new_key
from tests.support import truncate_all

EXAMPLES = examples(20)
"""Per route and mode; `python -m bench.fuzz` runs many more."""
SENDGRID_EVENTS = "/webhooks/sendgrid/events"
TWILIO_ROUTES = (twilio_door.STATUS, twilio_door.SMS)
INBOUND_SECRET = "fuzz-inbound-" + "x" * 40  # long enough to be taken (app/webhook_keys.py)
INBOUND = f"/webhooks/sendgrid/inbound/{INBOUND_SECRET}"


@pytest.fixture(scope="module")
def world(engine: Engine) -> Iterator[World]:
    truncate_all(engine)
    yield build(engine)
    truncate_all(engine)


@pytest.fixture(scope="module")
def signing() -> Iterator[SigningKey]:
    key = new_key()
    yield from (key for _ in configure_key(key.public_b64))


@pytest.fixture(scope="module")
def api(world: World, signing: SigningKey) -> FastAPI:
    app = create_app()
    app.dependency_overrides[intake_clock] = lambda: NOW
    app.dependency_overrides[webhook_clock] = lambda: NOW
    twilio_settings = twilio_door.settings(sendgrid_inbound_secret=INBOUND_SECRET)
    app.dependency_overrides[twilio.webhook_settings] = lambda: twilio_settings
    app.dependency_overrides[twilio.clock] = lambda: twilio_door.AT
    return app


@pytest.fixture(scope="module")
def client(api: FastAPI) -> Iterator[TestClient]:
    with TestClient(api) as test_client:
        yield test_client


def refusal_names_what_is_wrong(status: int, body: Any) -> None:
    """A 4xx says why in `detail` (`error` on SendGrid's route): the field, header or body part; a
    rejected item lists each field."""
    if 400 <= status < 500 and isinstance(body, dict):
        detail = body.get("detail") or body.get("error")
        assert detail, body
        if isinstance(detail, list):  # FastAPI's own validation: each error locates its field
            assert all(error.get("loc") for error in detail), body
    if status == 200 and isinstance(body, dict) and "results" in body:
        for item in body["results"]:
            if item["status"] == "rejected":
                assert item["errors"], item
                assert all(error["field"] and error["message"] for error in item["errors"]), item


def json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


KEYS_USED = itertools.count()


def fresh_idempotency_key(case: Any) -> None:
    """A generated Idempotency-Key made unique: one reused with another body is rightly 422, which
    a stateless fuzz would take for a valid request refused."""
    for name in list(case.headers or {}):
        if name.lower() == "idempotency-key" and 1 <= len(str(case.headers[name]).strip()) <= 200:
            case.headers[name] = f"fuzz-{next(KEYS_USED)}"


def send(case: Any, client: TestClient, world: World, signing: SigningKey) -> Any:
    """The case as a request: signed by us on SendGrid's route, else as schemathesis builds it
    (with the tenant's key unless the case brings its own Authorization).

    Not checked: that a schema-violating request is refused whole. By design a batch is answered
    200 with each bad item rejected field by field (`refusal_names_what_is_wrong` checks those)."""
    fresh_idempotency_key(case)
    if case.path == SENDGRID_EVENTS and case.media_type == "application/json":
        body = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()
        headers = {**(case.headers or {}), **signing.headers(body, NOW)}
        response = client.post(SENDGRID_EVENTS, content=body, headers=headers)
        case.validate_response(response, excluded_checks=[negative_data_rejection])
        return response
    headers = {} if "Authorization" in (case.headers or {}) else {"Authorization": f"Bearer {world.key}"}
    return case.call_and_validate(headers=headers, excluded_checks=[negative_data_rejection])


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_route_answers_as_its_schema_says(
    api: FastAPI, client: TestClient, world: World, signing: SigningKey, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", api)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 10
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not (operation.body or operation.query or operation.headers):
            continue  # nothing to make invalid (GET /healthz)

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case: Any) -> None:
            tried("api")
            response = send(case, client, world, signing)
            assert response.status_code < 500, (case.method, case.path, response.text)
            refusal_names_what_is_wrong(response.status_code, json_or_none(response.text))

        fuzz()


FORM_VALUES = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
FORMS = st.dictionaries(
    st.sampled_from(["MessageSid", "SmsSid", "MessageStatus", "From", "To", "Body", "ErrorCode", "AccountSid"])
    | FORM_VALUES,
    FORM_VALUES,
    max_size=8,
)


@pytest.mark.parametrize("path", TWILIO_ROUTES)
def test_twilio_webhooks_take_any_signed_form_without_a_server_error(client: TestClient, path: str) -> None:
    """Twilio's forms have no schema to generate from: hypothesis makes them, each signed as Twilio
    would, so they pass the signature check and reach the parsing and the database."""
    statuses: set[int] = set()

    @given(fields=FORMS)
    @settings(max_examples=EXAMPLES * 4, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(fields: dict[str, str]) -> None:
        tried("api")
        response = twilio_door.post(client, path, fields)
        assert response.status_code < 500, (fields, response.text)
        statuses.add(response.status_code)

    fuzz()
    assert statuses & {200, 204}, statuses  # the signatures were taken


def test_the_openapi_asks_for_the_bodies_the_routes_read() -> None:
    """Found by the fuzz: the webhooks read their forms themselves, so the OpenAPI asked for no body
    and a body-less request, valid by it, was refused; and the batches' extra top-level fields,
    refused by the routes, were allowed by it."""
    spec = create_app().openapi()
    paths = spec["paths"]
    for path in TWILIO_ROUTES:
        body = paths[path]["post"]["requestBody"]
        assert body["required"] is True
        assert list(body["content"]) == ["application/x-www-form-urlencoded"]
    assert list(paths["/webhooks/sendgrid/inbound/{secret}"]["post"]["requestBody"]["content"]) == [
        "multipart/form-data"
    ]
    for path in ("/api/leads", "/api/activities", "/api/conversions"):
        schema = paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        assert schema["additionalProperties"] is False, path


@pytest.mark.parametrize("path", TWILIO_ROUTES)
def test_a_signed_form_with_a_nul_character_is_refused_by_its_field(
    client: TestClient, engine: Engine, path: str
) -> None:
    """Found by the fuzz: `To=%00`, signed, reached a query and PostgreSQL refused it: a 500. Now 400,
    naming the field, stored as rejected (the body as sent, `%00` and all)."""
    before = sql(engine, "SELECT count(*) FROM webhook_deliveries WHERE result = 'rejected'")[0][0]
    fields = {"MessageSid": "SM" + "1" * 32, "From": "+14155552671", "To": "\x00", "Body": "hi"}
    response = twilio_door.post(client, path, fields)
    assert response.status_code == 400
    assert response.text == "form field 'To' holds a NUL character (%00)"
    stored = sql(
        engine, "SELECT body, error FROM webhook_deliveries WHERE result = 'rejected' ORDER BY id DESC LIMIT 1"
    )
    assert sql(engine, "SELECT count(*) FROM webhook_deliveries WHERE result = 'rejected'")[0][0] == before + 1
    assert "To=%00" in stored[0][0]
    assert stored[0][1] == "form field 'To' holds a NUL character (%00)"


def test_a_conversions_body_that_is_not_json_is_a_documented_400(client: TestClient, world: World) -> None:
    """Found by the fuzz: FastAPI answers 400 to a body it cannot parse, which the OpenAPI did not list."""
    response = client.post(
        "/api/conversions",
        content=b"\x80\x81",  # not UTF-8: FastAPI cannot even decode it
        headers={"Authorization": f"Bearer {world.key}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "400" in create_app().openapi()["paths"]["/api/conversions"]["post"]["responses"]


EMAIL_FIELDS = st.fixed_dictionaries(
    {"from": st.sampled_from(["Ada <ada@example.com>", "ada@example.com", ""]) | FORM_VALUES},
    optional=dict.fromkeys(("to", "subject", "text", "html", "headers", "envelope", "charsets"), FORM_VALUES),
)


def test_sendgrid_inbound_takes_any_email_form_without_a_server_error(client: TestClient, engine: Engine) -> None:
    """SendGrid's Inbound Parse form (behind its secret path) with any text in its fields, NUL included:
    no 500, and each form is stored once, applied or rejected."""
    statuses: set[int] = set()

    @given(fields=EMAIL_FIELDS)
    @settings(max_examples=examples(60), derandomize=True, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(fields: dict[str, str]) -> None:
        tried("api")
        before = sql(engine, "SELECT count(*) FROM webhook_deliveries")[0][0]
        response = client.post(INBOUND, files={name: (None, value) for name, value in fields.items()})
        assert response.status_code < 500, (fields, response.text)
        assert sql(engine, "SELECT count(*) FROM webhook_deliveries")[0][0] == before + 1
        statuses.add(response.status_code)

    fuzz()
    assert statuses >= {200, 400}, statuses


def test_an_inbound_email_with_a_nul_character_is_kept_without_it(client: TestClient, engine: Engine) -> None:
    """Found by the fuzz: a NUL in an email's text reached PostgreSQL's text and gave a 500, losing the
    reply. It is kept, each NUL shown as U+FFFD."""
    response = client.post(INBOUND, files={"from": (None, "ada@example.com"), "text": (None, "yes\x00please")})
    assert response.status_code == 200
    body = sql(engine, "SELECT body FROM webhook_deliveries ORDER BY id DESC LIMIT 1")[0][0]
    assert "yes\ufffdplease" in body
