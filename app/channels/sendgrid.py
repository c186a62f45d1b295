"""Email through SendGrid's v3 Mail Send API, up to a thousand messages per request.

Our bodies are personalised, so messages never share literal content. They share everything
else (sender, categories, the shape of the message), so a batch is one request whose content
is a single substitution tag and whose personalizations carry, per recipient: the address,
the subject, the body as the tag's substitution, the List-Unsubscribe headers and the ids in
custom_args. That turns a thousand HTTP round trips into one. A message too large for a
substitution (SendGrid caps them per personalization; we stay under the oldest, 10,000
bytes) goes in a request of its own with literal content, as does every message when a batch
is rejected with 400/413, because SendGrid refuses a whole request for one bad address.

Each message has its own Reply-To (`reply+<signed token>@<reply domain>`), which is how an
emailed answer finds its message. v3 has `reply_to` (and `reply_to_list`) only at the top of
the request, not per personalization, and refuses `Reply-To` among a personalization's
headers (a reserved header). But a personalization's substitutions apply to the subject and
the reply-to as well as the content (the v3 reference, "substitutions"): so a batch's
`reply_to` is `<tag>@<reply domain>` and each personalization substitutes its own local part
for the tag. Messages are grouped by reply domain, so the part that is not substituted is
the same for the whole request; a single message carries its address literally.

custom_args carry ids only (tenant, message, lead, campaign): SendGrid stores them as non-PII
and echoes them in every event, which is how webhooks find our row. Categories are coarse
(product and plan node) because SendGrid tracks a limited number of distinct categories.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (
    Category,
    Content,
    CustomArg,
    From,
    Header,
    Mail,
    Personalization,
    ReplyTo,
    Substitution,
    To,
)

from app.channels.base import Outcome, OutgoingMessage, SendResult, error_outcome, rate_limit_wait
from app.domain.footer import email_footer, with_footer

MAX_PERSONALIZATIONS = 1000
MAX_SUBSTITUTION_BYTES = 10_000
BODY_TAG = "-lre_body-"
REPLY_TAG = "-lre_reply-"
"""Stands for a batched message's Reply-To local part; a valid local part itself, as v3 checks the address."""
EMAIL_COST_USD = Decimal("0.0004")  # an estimate per email at a mid SendGrid plan
PRODUCT_CATEGORY = "lead-recovery"
WHOLE_REQUEST_REFUSED = frozenset({400, 413})


class SendGridProvider:
    name = "sendgrid"
    reaches_people = True

    def __init__(
        self, *, api_key: str, host: str, timeout: float = 30.0, clock: Callable[[], float] = time.time
    ) -> None:
        """`timeout` bounds the connection and each read; `clock` (epoch seconds) reads a 429's
        `X-RateLimit-Reset`, an epoch second, as a wait."""
        self._client = SendGridAPIClient(api_key, host=host.rstrip("/"))
        self._timeout = timeout
        self._clock = clock

    def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        unsendable = [m for m in messages if not m.from_address]
        results = [SendResult.rejected(m.message_id, "tenant has no sender email") for m in unsendable]
        for batch in plan_requests([m for m in messages if m.from_address]):
            results.extend(self._send_batch(batch))
        return results

    def _send_batch(self, batch: list[OutgoingMessage]) -> list[SendResult]:
        results, status = self._post(batch)
        if len(batch) > 1 and status in WHOLE_REQUEST_REFUSED:
            # SendGrid validated the whole request and took none of it: isolate the bad message.
            return [result for message in batch for result in self._post([message])[0]]
        return results

    def _post(self, batch: list[OutgoingMessage]) -> tuple[list[SendResult], int | None]:
        ids = [m.message_id for m in batch]
        try:
            response = self._client.client.mail.send.post(request_body=build_request(batch), timeout=self._timeout)
        except HTTPError as error:
            return _from_http_error(ids, error, self._clock()), int(error.status_code)
        except urllib.error.URLError as error:  # raised while connecting or sending: nothing arrived
            return [SendResult.retry(i, f"network: {error.reason}") for i in ids], None
        except (OSError, http.client.HTTPException) as error:  # the request went out, no answer came
            return [SendResult.unknown(i, f"no response from SendGrid: {error!r}") for i in ids], None
        provider_id = response.headers.get("X-Message-Id") or ""
        return [SendResult.accepted(i, provider_id, EMAIL_COST_USD) for i in ids], int(response.status_code)


def plan_requests(messages: Iterable[OutgoingMessage]) -> list[list[OutgoingMessage]]:
    """Messages grouped into requests: same envelope, unique recipients, at most 1,000 each."""
    groups: dict[tuple[object, ...], list[OutgoingMessage]] = defaultdict(list)
    singles: list[list[OutgoingMessage]] = []
    for message in messages:
        if fits_substitution(message):
            groups[_envelope(message)].append(message)
        else:
            singles.append([message])
    requests: list[list[OutgoingMessage]] = []
    for group in groups.values():
        for lane in _unique_recipient_lanes(group):
            requests.extend(lane[i : i + MAX_PERSONALIZATIONS] for i in range(0, len(lane), MAX_PERSONALIZATIONS))
    return requests + singles


def fits_substitution(message: OutgoingMessage) -> bool:
    """The message's substitutions (its body, its Reply-To local part) stay within SendGrid's cap."""
    return sum(len(tag.encode()) + len(value.encode()) for tag, value in substitutions(message).items()) <= (
        MAX_SUBSTITUTION_BYTES
    )


def _envelope(message: OutgoingMessage) -> tuple[object, ...]:
    return (message.tenant_id, message.from_address, message.from_name, message.category, reply_domain(message))


def reply_domain(message: OutgoingMessage) -> str | None:
    return message.reply_to.rpartition("@")[2].lower() if message.reply_to else None


def substitutions(message: OutgoingMessage) -> dict[str, str]:
    """What a batched message's personalization substitutes: its body, and its Reply-To's local part."""
    found = {BODY_TAG: full_body(message)}
    if message.reply_to:
        found[REPLY_TAG] = message.reply_to.rpartition("@")[0]
    return found


def _unique_recipient_lanes(group: list[OutgoingMessage]) -> list[list[OutgoingMessage]]:
    """SendGrid refuses a request naming one address twice: the n-th message to an address goes in lane n."""
    seen: dict[str, int] = defaultdict(int)
    lanes: list[list[OutgoingMessage]] = []
    for message in group:
        lane = seen[message.to_address.lower()]
        seen[message.to_address.lower()] += 1
        if lane == len(lanes):
            lanes.append([])
        lanes[lane].append(message)
    return lanes


def full_body(message: OutgoingMessage) -> str:
    footer = email_footer(
        sender_name=message.from_name,
        physical_address=message.physical_address,
        unsubscribe_url=message.unsubscribe_url,
    )
    return with_footer(message.body, footer)


def build_request(batch: list[OutgoingMessage]) -> dict[str, Any]:
    """The v3 mail/send body for one request (literal content for one message, a tag for many)."""
    first = batch[0]
    mail = Mail()
    mail.from_email = From(first.from_address, first.from_name or None)
    for category in categories(first):
        mail.add_category(Category(category))  # the SDK inserts at index 0; order carries no meaning
    batched = len(batch) > 1
    mail.add_content(Content("text/plain", BODY_TAG if batched else full_body(first)))
    if first.reply_to:
        mail.reply_to = ReplyTo(f"{REPLY_TAG}@{reply_domain(first)}" if batched else first.reply_to)
    for position, message in enumerate(batch):
        mail.add_personalization(personalization(message, batched=batched), index=position)
    return mail.get()  # type: ignore[no-any-return]


def personalization(message: OutgoingMessage, *, batched: bool) -> Personalization:
    p = Personalization()
    p.add_to(To(message.to_address))
    p.subject = message.subject or ""
    for name, value in list_unsubscribe_headers(message).items():
        p.add_header(Header(name, value))
    for key, value in custom_args(message).items():
        p.add_custom_arg(CustomArg(key, value))
    if batched:
        for tag, value in substitutions(message).items():
            p.add_substitution(Substitution(tag, value))
    return p


def list_unsubscribe_headers(message: OutgoingMessage) -> dict[str, str]:
    """RFC 8058 one-click, which Gmail and Yahoo require of bulk senders: the https link alone.

    No `mailto:` beside it: no code reads a mailbox, so a request sent there would be lost
    while the lead believed it honoured. A provider that finds the POST header uses the link.
    """
    return {
        "List-Unsubscribe": f"<{message.unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def custom_args(message: OutgoingMessage) -> dict[str, str]:
    """Ids only: SendGrid keeps custom args as non-PII, long-term, visible to its staff."""
    args = {"tenant_id": str(message.tenant_id), "message_id": str(message.message_id), "lead_id": str(message.lead_id)}
    if message.campaign_id is not None:
        args["campaign_id"] = str(message.campaign_id)
    return args


def categories(message: OutgoingMessage) -> list[str]:
    return [PRODUCT_CATEGORY] + ([message.category] if message.category else [])


def _from_http_error(ids: list[int], error: HTTPError, now: float) -> list[SendResult]:
    status = int(error.status_code)
    detail = f"SendGrid {status}: {_error_detail(error)}"
    outcome = error_outcome(status)
    if outcome is Outcome.RETRY:
        headers = error.headers
        retry_after = rate_limit_wait(lambda name: headers.get(name) if headers else None, now)
        return [SendResult.retry(i, detail, retry_after) for i in ids]
    if outcome is Outcome.UNKNOWN:
        return [SendResult.unknown(i, f"{detail} (it may have taken the message: held, not resent)") for i in ids]
    return [SendResult.rejected(i, detail) for i in ids]


def _error_detail(error: HTTPError) -> str:
    """SendGrid's `errors[].message` texts, else the start of the body."""
    body = error.body.decode("utf-8", "replace") if isinstance(error.body, bytes) else str(error.body or "")
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    errors = parsed.get("errors") if isinstance(parsed, dict) else None
    messages = [str(e.get("message", "")) for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
    return "; ".join(filter(None, messages)) or body[:300] or str(error.reason)
