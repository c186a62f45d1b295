"""Provider logic that needs no network: how SendGrid requests are planned and built, SMS segments."""

from dataclasses import replace

from app.channels.base import OutgoingMessage, parse_retry_after, rate_limit_wait
from app.channels.sendgrid import BODY_TAG, MAX_PERSONALIZATIONS, build_request, plan_requests
from app.channels.twilio import sms_segments


def email(message_id: int, to: str | None = None, body: str = "Hi there", tenant_id: int = 1) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=message_id,
        tenant_id=tenant_id,
        lead_id=100 + message_id,
        campaign_id=None,
        channel="email",
        to_address=to or f"lead{message_id}@example.com",
        subject="Checking in",
        body=body,
        from_address="sales@acme.example",
        unsubscribe_url=f"https://lre.example/unsubscribe/t{message_id}",
    )


def test_a_thousand_personalizations_per_request_in_the_given_order() -> None:
    requests = plan_requests([email(i) for i in range(2500)])
    assert [len(r) for r in requests] == [MAX_PERSONALIZATIONS, MAX_PERSONALIZATIONS, 500]
    assert [m.message_id for m in requests[0][:3]] == [0, 1, 2]
    body = build_request(requests[0])
    assert [p["custom_args"]["message_id"] for p in body["personalizations"][:3]] == ["0", "1", "2"]


def test_an_address_appears_once_per_request() -> None:
    requests = plan_requests([email(1, "ann@x.com"), email(2, "ANN@x.com"), email(3, "bob@x.com")])
    assert sorted(sorted(m.message_id for m in r) for r in requests) == [[1, 3], [2]]


def test_tenants_never_share_a_request_and_oversized_bodies_go_alone() -> None:
    big = email(3, body="x" * 20_000)
    requests = plan_requests([email(1), email(2, tenant_id=2), big])
    assert sorted(len(r) for r in requests) == [1, 1, 1]
    alone = build_request([big])
    assert alone["content"][0]["value"].startswith("x" * 100)
    assert "substitutions" not in alone["personalizations"][0]


def test_a_batch_shares_one_tagged_content_and_substitutes_each_body() -> None:
    body = build_request([email(1, body="Hi Ann"), email(2, body="Hi Bob")])
    assert body["content"] == [{"type": "text/plain", "value": BODY_TAG}]
    assert [p["substitutions"][BODY_TAG].split("\n")[0] for p in body["personalizations"]] == ["Hi Ann", "Hi Bob"]


def test_sms_segments_follow_the_alphabet() -> None:
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2
    assert sms_segments("ü" * 160) == 1  # ü is GSM-7
    assert sms_segments("✓" + "a" * 70) == 2  # anything else is UCS-2: 70, then 67 per part


def test_retry_after_in_seconds_or_absent() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert parse_retry_after(None) is None


def test_an_http_date_retry_after_counts_from_the_given_clock() -> None:
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now) == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None


def test_the_later_of_retry_after_and_the_rate_limit_reset_is_the_wait() -> None:
    now = 1_900_000_000.0
    assert rate_limit_wait({"X-RateLimit-Reset": "1900000600"}.get, now) == 600.0
    assert rate_limit_wait({"Retry-After": "30", "X-RateLimit-Reset": "1900000600"}.get, now) == 600.0
    assert rate_limit_wait({"Retry-After": "900", "X-RateLimit-Reset": "1900000600"}.get, now) == 900.0
    assert rate_limit_wait({"X-RateLimit-Reset": "1899999000"}.get, now) == 0.0
    assert rate_limit_wait({"X-RateLimit-Reset": "tomorrow"}.get, now) is None
    assert rate_limit_wait({}.get, now) is None


def test_reply_domains_never_share_a_request_but_tokens_do() -> None:
    a, b, c = (
        replace(email(1), reply_to="reply+1-1-aaa@r1.example"),
        replace(email(2), reply_to="reply+1-2-bbb@r1.example"),
        replace(email(3), reply_to="reply+1-3-ccc@r2.example"),
    )
    requests = plan_requests([a, b, c])
    assert sorted(sorted(m.message_id for m in r) for r in requests) == [[1, 2], [3]]
    body = build_request(next(r for r in requests if len(r) == 2))
    assert body["reply_to"] == {"email": "-lre_reply-@r1.example"}
    assert [p["substitutions"]["-lre_reply-"] for p in body["personalizations"]] == ["reply+1-1-aaa", "reply+1-2-bbb"]


def test_the_reply_token_counts_toward_the_substitution_cap() -> None:
    footer = len(build_request([email(1, body="")])["content"][0]["value"].encode())
    # the body tag and body, plus the reply tag and its local part, just over 10,000 bytes
    body = "x" * (10_000 - footer - len("-lre_body-") - len("-lre_reply-") - len("reply+1-1-aaa") + 1)
    message = replace(email(1, body=body), reply_to="reply+1-1-aaa@r1.example")
    requests = plan_requests([message, email(2)])
    assert sorted(len(r) for r in requests) == [1, 1]
    assert sorted(len(r) for r in plan_requests([replace(message, reply_to=None), email(2)])) == [2]
