"""The provider of each channel, chosen by the settings (`EMAIL_PROVIDER`, `SMS_PROVIDER`)."""

from __future__ import annotations

from app.channels.base import Provider
from app.channels.sandbox import SandboxProvider
from app.settings import Settings

CHANNELS = ("email", "sms")
HARMLESS_PROVIDERS = frozenset({"sandbox"})
"""Providers whose lost sends reached no one (see `Provider.reaches_people`)."""


def provider_name(channel: str, settings: Settings) -> str:
    if channel == "email":
        return settings.email_provider
    if channel == "sms":
        return settings.sms_provider
    raise ValueError(f"unknown channel {channel!r}; channels are {', '.join(CHANNELS)}")


def provider_for(channel: str, settings: Settings) -> Provider:
    """A ready provider for `channel`; the SDK clients are built here and nowhere else."""
    name = provider_name(channel, settings)
    if name == "sendgrid":
        return _sendgrid(settings)
    if name == "twilio":
        return _twilio(settings)
    return SandboxProvider(channel)


def providers(settings: Settings) -> dict[str, Provider]:
    return {channel: provider_for(channel, settings) for channel in CHANNELS}


def _sendgrid(settings: Settings) -> Provider:
    from app.channels.sendgrid import SendGridProvider

    assert settings.sendgrid_api_key is not None  # the settings refuse sendgrid without a key
    return SendGridProvider(api_key=settings.sendgrid_api_key.get_secret_value(), host=str(settings.sendgrid_api_host))


def _twilio(settings: Settings) -> Provider:
    from app.channels.twilio import TwilioProvider

    # The settings refuse `twilio` without these.
    assert settings.twilio_account_sid
    assert settings.twilio_auth_token
    return TwilioProvider(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token.get_secret_value(),
        base_url=str(settings.twilio_api_base_url),
        from_number=settings.twilio_from_number,
        status_callback=public_url(settings, "/webhooks/twilio/status"),
    )


def public_url(settings: Settings, path: str) -> str:
    """A URL of the api process as the outside world reaches it."""
    return str(settings.public_base_url).rstrip("/") + path
