"""Signing event webhook posts the way SendGrid does, with a key pair made in the test.

SendGrid signs `timestamp + body` (the X-Twilio-Email-Event-Webhook-Timestamp header's text
followed by the raw body bytes) with ECDSA P-256 and SHA-256, and sends the DER signature in
base64; the public key it shows is the base64 of the DER SubjectPublicKeyInfo. Written here
with `cryptography` from that description, not with the code under test.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


@dataclass(frozen=True)
class SigningKey:
    private: ec.EllipticCurvePrivateKey

    @property
    def public_b64(self) -> str:
        der = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def sign(self, timestamp: str, body: bytes) -> str:
        signature = self.private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(signature).decode()

    def headers(self, body: bytes, at: datetime) -> dict[str, str]:
        stamp = str(int(at.timestamp()))
        return {"Content-Type": "application/json", SIGNATURE: self.sign(stamp, body), TIMESTAMP: stamp}


def new_key() -> SigningKey:
    return SigningKey(ec.generate_private_key(ec.SECP256R1()))


def body_of(events: list[dict[str, Any]]) -> bytes:
    return json.dumps(events).encode()
