"""The demo's webhook keys verify the demo's signatures, and only while the channel is sandboxed."""

from __future__ import annotations

import stat
from pathlib import Path

from sendgrid.helpers.eventwebhook import EventWebhook
from twilio.request_validator import RequestValidator

from app import webhook_keys
from app.settings import load_settings


def test_the_demo_pair_signs_what_the_sendgrid_sdk_verifies(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    webhook_keys.ensure_demo_keys(settings)
    signer = webhook_keys.demo_signer(settings)
    assert signer is not None
    public = webhook_keys.sendgrid_public_key(settings)
    assert public is not None
    body = '[{"event":"delivered","sg_event_id":"e1"}]'
    signature = signer.sign_sendgrid("1765000000", body)
    verifier = EventWebhook(public)
    assert verifier.verify_signature(body, signature, "1765000000")
    assert not verifier.verify_signature(body.replace("delivered", "open"), signature, "1765000000")
    assert not verifier.verify_signature(body, signature, "1765000001")


def test_the_demo_token_signs_what_the_twilio_sdk_validates(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    webhook_keys.ensure_demo_keys(settings)
    signer = webhook_keys.demo_signer(settings)
    token = webhook_keys.twilio_auth_token(settings)
    assert signer is not None
    assert token == signer.twilio_token
    validator = RequestValidator(token)
    url, params = "https://lre.example/webhooks/twilio/sms", {"From": "+15550001111", "Body": "STOP"}
    assert validator.validate(url, params, validator.compute_signature(url, params))


def test_keys_are_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    webhook_keys.ensure_demo_keys(settings)
    first = webhook_keys.sendgrid_public_key(settings)
    webhook_keys.ensure_demo_keys(settings)
    assert webhook_keys.sendgrid_public_key(settings) == first
    for path in webhook_keys.demo_dir(settings).iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_a_real_provider_never_falls_back_to_the_demo_keys(tmp_path: Path) -> None:
    demo = load_settings(data_dir=tmp_path)
    webhook_keys.ensure_demo_keys(demo)
    live = load_settings(
        data_dir=tmp_path,
        email_provider="sendgrid",
        sendgrid_api_key="SG.x",
        sms_provider="twilio",
        twilio_account_sid="AC1",
        twilio_auth_token="real-token",
        twilio_from_number="+15550001111",
        public_base_url="https://lre.example",
    )
    assert webhook_keys.sendgrid_public_key(live) is None
    assert webhook_keys.twilio_auth_token(live) == "real-token"


def test_nothing_verifies_when_no_demo_keys_were_made(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert webhook_keys.sendgrid_public_key(settings) is None
    assert webhook_keys.twilio_auth_token(settings) is None
    assert webhook_keys.demo_signer(settings) is None


def test_the_inbound_parse_secret_is_made_once_and_only_serves_the_sandbox(tmp_path: Path) -> None:
    sandbox = load_settings(data_dir=tmp_path)
    assert webhook_keys.sendgrid_inbound_secret(sandbox) is None  # not made yet: every request is 404
    webhook_keys.ensure_demo_keys(sandbox)
    made = webhook_keys.sendgrid_inbound_secret(sandbox)
    assert made is not None
    assert len(made) >= 32
    webhook_keys.ensure_demo_keys(sandbox)
    assert webhook_keys.sendgrid_inbound_secret(sandbox) == made  # kept across starts
    real = load_settings(
        data_dir=tmp_path, email_provider="sendgrid", sendgrid_api_key="SG.k", public_base_url="https://lre.example"
    )
    assert webhook_keys.sendgrid_inbound_secret(real) is None
    assert (
        webhook_keys.sendgrid_inbound_secret(load_settings(data_dir=tmp_path, sendgrid_inbound_secret="short")) is None
    )
    configured = load_settings(data_dir=tmp_path, sendgrid_inbound_secret="z" * 40)
    assert webhook_keys.sendgrid_inbound_secret(configured) == "z" * 40
