"""SMS through Twilio's Messages API.

Twilio has no batch send, so a batch is many `Messages.create` calls over one keep-alive
session, a few at a time on threads (the calls wait on the network, not the CPU). The API
host comes from TWILIO_API_BASE_URL (`client.api.base_url`), which is how tests and staging
point the real SDK at a local fake. Every message asks for status callbacks at
`{PUBLIC_BASE_URL}/webhooks/twilio/status?m=<our message id>`: the id in the URL lets a
callback find its outbox row even when the send's own answer never came back (a `held` row
has no SID yet). The returned SID is the provider message id the callbacks also carry.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.exceptions import MaxRetryError, NewConnectionError

from app.channels.base import Outcome, OutgoingMessage, SendResult, error_outcome, rate_limit_wait
from app.domain.sms_segments import count_segments

MESSAGE_ID_PARAM = "m"
"""The status callback URL's query parameter naming our `outbound_messages.id`."""
SEGMENT_COST_USD = Decimal("0.0079")  # US long-code price per segment, an estimate


class _RecordingHttpClient(TwilioHttpClient):
    """Remembers each thread's last response: a 429's Retry-After is not on the SDK's exception."""

    def __init__(self, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.local = threading.local()

    def request(self, *args: Any, **kwargs: Any) -> Response:
        self.local.last = None
        response = super().request(*args, **kwargs)
        self.local.last = response
        return response

    def last_header(self, name: str) -> str | None:
        last = getattr(self.local, "last", None)
        return None if last is None else last.headers.get(name)


class TwilioProvider:
    name = "twilio"
    reaches_people = True

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        base_url: str,
        from_number: str | None,
        status_callback: str,
        timeout: float = 30.0,
        concurrency: int = 8,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`timeout` bounds the connection and each read; `clock` (epoch seconds) reads a
        Retry-After given as an HTTP date."""
        self._clock = clock
        self._http = _RecordingHttpClient(timeout=timeout)
        self._client = Client(account_sid, auth_token, http_client=self._http)
        self._client.api.base_url = base_url.rstrip("/")
        self._from_number = from_number
        self._status_callback = status_callback
        self._concurrency = concurrency

    def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        if len(messages) <= 1:
            return [self._send_one(m) for m in messages]
        with ThreadPoolExecutor(max_workers=min(self._concurrency, len(messages))) as pool:
            return list(pool.map(self._send_one, messages))

    def _send_one(self, message: OutgoingMessage) -> SendResult:
        sender = message.from_address or self._from_number
        if not sender:
            return SendResult.rejected(message.message_id, "no SMS sender number (tenant or TWILIO_FROM_NUMBER)")
        try:
            created = self._client.messages.create(
                to=message.to_address,
                from_=sender,
                body=message.body,
                status_callback=status_callback_url(self._status_callback, message.message_id),
            )
        except TwilioRestException as error:
            return self._from_rest_error(message.message_id, error)
        except requests.exceptions.ConnectTimeout as error:
            return SendResult.retry(message.message_id, f"network: {error}")
        except requests.exceptions.ConnectionError as error:
            if _never_connected(error):
                return SendResult.retry(message.message_id, f"network: {error}")
            return SendResult.unknown(message.message_id, f"no response from Twilio: {error}")
        except requests.exceptions.RequestException as error:  # read timeouts and the like: it may have arrived
            return SendResult.unknown(message.message_id, f"no response from Twilio: {error}")
        return SendResult.accepted(message.message_id, str(created.sid), sms_cost(message.body))

    def _from_rest_error(self, message_id: int, error: TwilioRestException) -> SendResult:
        status = int(error.status)
        detail = f"Twilio {status}" + (f" ({error.code})" if error.code else "") + f": {error.msg}"
        outcome = error_outcome(status)
        if outcome is Outcome.RETRY:
            return SendResult.retry(message_id, detail, rate_limit_wait(self._http.last_header, self._clock()))
        if outcome is Outcome.UNKNOWN:
            return SendResult.unknown(message_id, f"{detail} (it may have taken the message: held, not resent)")
        return SendResult.rejected(message_id, detail, str(error.code) if error.code else None)


def status_callback_url(base: str, message_id: int) -> str:
    """The callback URL of one message: the webhook's URL with our message id in its query."""
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}{urlencode({MESSAGE_ID_PARAM: message_id})}"


def _never_connected(error: requests.exceptions.ConnectionError) -> bool:
    """True when the connection itself failed, so Twilio never saw the request."""
    reason = error.args[0] if error.args else None
    return isinstance(reason, MaxRetryError) and isinstance(reason.reason, NewConnectionError)


def sms_segments(body: str) -> int:
    """How many parts a carrier bills for (`app.domain.sms_segments`: extension characters count twice)."""
    return count_segments(body).segments


def sms_cost(body: str) -> Decimal:
    return SEGMENT_COST_USD * sms_segments(body)
