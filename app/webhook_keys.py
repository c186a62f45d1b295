"""Which key verifies a provider's webhook, and the demo's own key pair.

In production the keys come from the provider: SendGrid's signed event webhook public key
(`SENDGRID_WEBHOOK_PUBLIC_KEY`) and Twilio's auth token (`TWILIO_AUTH_TOKEN`). Unsigned
webhooks are never accepted, so a product with neither would hear nothing back.

Under `make run` no provider is configured, yet the demo must run through the same doors: its
engagement simulator POSTs signed SendGrid events and signed Twilio callbacks to the running
api. So at first start the launcher makes a demo key pair and a demo token under
`DATA_DIR/demo-webhooks/` (private files, never committed, never shown), and the api verifies
with them only while the channel's provider is the sandbox. Selecting SendGrid or Twilio
switches verification to the provider's key; a missing key then means every request is
refused, never that signatures are skipped.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.settings import Settings

PRIVATE_KEY_FILE = "sendgrid-events-private.pem"
PUBLIC_KEY_FILE = "sendgrid-events-public.b64"
TWILIO_TOKEN_FILE = "twilio-auth-token"  # noqa: S105 - a file name, not a token
INBOUND_SECRET_FILE = "sendgrid-inbound-secret"  # noqa: S105 - a file name, not a secret
MIN_INBOUND_SECRET_CHARS = 32


def demo_dir(settings: Settings) -> Path:
    return settings.data_dir / "demo-webhooks"


def ensure_demo_keys(settings: Settings) -> None:
    """Make the demo's SendGrid key pair and Twilio token once (kept across runs with the data)."""
    folder = demo_dir(settings)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not (folder / PRIVATE_KEY_FILE).exists() or not (folder / PUBLIC_KEY_FILE).exists():
        private = ec.generate_private_key(ec.SECP256R1())
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _write_private(folder / PRIVATE_KEY_FILE, pem)
        _write_private(folder / PUBLIC_KEY_FILE, public_key_b64(private.public_key()).encode())
    if not (folder / TWILIO_TOKEN_FILE).exists():
        _write_private(folder / TWILIO_TOKEN_FILE, secrets.token_hex(16).encode())
    if not (folder / INBOUND_SECRET_FILE).exists():
        _write_private(folder / INBOUND_SECRET_FILE, secrets.token_urlsafe(32).encode())


def sendgrid_public_key(settings: Settings) -> str | None:
    """The key that verifies SendGrid events: the provider's, or the demo's while email is sandboxed."""
    if settings.sendgrid_webhook_public_key:
        return settings.sendgrid_webhook_public_key
    if settings.email_provider == "sandbox":
        return _read(demo_dir(settings) / PUBLIC_KEY_FILE)
    return None


def twilio_auth_token(settings: Settings) -> str | None:
    """The token that verifies Twilio callbacks: the account's, or the demo's while SMS is sandboxed."""
    if settings.twilio_auth_token is not None:
        return settings.twilio_auth_token.get_secret_value()
    if settings.sms_provider == "sandbox":
        return _read(demo_dir(settings) / TWILIO_TOKEN_FILE)
    return None


def sendgrid_inbound_secret(settings: Settings) -> str | None:
    """The path secret of Inbound Parse, which SendGrid does not sign: the configured one, or the
    demo's while email is sandboxed. None (every request 404) when unset or too short to be unguessable."""
    if settings.sendgrid_inbound_secret is not None:
        secret: str | None = settings.sendgrid_inbound_secret.get_secret_value()
    elif settings.email_provider == "sandbox":
        secret = _read(demo_dir(settings) / INBOUND_SECRET_FILE)
    else:
        secret = None
    return secret if secret is not None and len(secret) >= MIN_INBOUND_SECRET_CHARS else None


@dataclass(frozen=True)
class DemoSigner:
    """What the demo simulator signs with: the private half of the demo key, and the demo token."""

    sendgrid_key: ec.EllipticCurvePrivateKey
    twilio_token: str

    def sign_sendgrid(self, timestamp: str, body: str) -> str:
        """SendGrid's construction: ECDSA P-256 / SHA-256 over timestamp + body, base64 DER."""
        signature = self.sendgrid_key.sign((timestamp + body).encode(), ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(signature).decode()


def demo_signer(settings: Settings) -> DemoSigner | None:
    """The demo's signing material, or None when it was never made (not under `make run`)."""
    folder = demo_dir(settings)
    pem, token = _read(folder / PRIVATE_KEY_FILE), _read(folder / TWILIO_TOKEN_FILE)
    if pem is None or token is None:
        return None
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        return None
    return DemoSigner(key, token)


def public_key_b64(key: ec.EllipticCurvePublicKey) -> str:
    """A public key as SendGrid shows it: base64 of the DER SubjectPublicKeyInfo."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def _write_private(path: Path, content: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as sink:
        sink.write(content)
