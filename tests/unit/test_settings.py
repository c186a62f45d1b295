"""Settings: a malformed environment stops a command with one line naming the variable; an
empty one runs the embedded demo; every variable is documented in the README."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]

MALFORMED = [
    ({"EMAIL_PROVIDER": "smtp"}, "EMAIL_PROVIDER"),
    ({"SMS_PROVIDER": "carrier-pigeon"}, "SMS_PROVIDER"),
    ({"DATABASE_URL": "mysql://root@127.0.0.1/leads"}, "DATABASE_URL"),
    ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
    ({"PUBLIC_BASE_URL": "not a url"}, "PUBLIC_BASE_URL"),
    ({"PUBLIC_BASE_URL": "ftp://example.com"}, "PUBLIC_BASE_URL"),
    ({"SENDGRID_API_HOST": "sendgrid"}, "SENDGRID_API_HOST"),
    ({"TWILIO_API_BASE_URL": "twilio"}, "TWILIO_API_BASE_URL"),
    ({"ANTHROPIC_BASE_URL": "claude"}, "ANTHROPIC_BASE_URL"),
    ({"TWILIO_FROM_NUMBER": "123"}, "TWILIO_FROM_NUMBER"),
    ({"TWILIO_FROM_NUMBER": "+1555CALLNOW"}, "TWILIO_FROM_NUMBER"),
    ({"SMS_PROVIDER": "twilio"}, "SMS_PROVIDER"),
    ({"SMS_PROVIDER": "twilio", "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"}, "SMS_PROVIDER"),
    ({"EMAIL_PROVIDER": "sendgrid"}, "EMAIL_PROVIDER"),
    ({"SECRET_KEY": "   "}, "SECRET_KEY"),
    ({"EMAIL_PROVIDER": "sendgrid", "SENDGRID_API_KEY": "SG.k"}, "PUBLIC_BASE_URL"),  # the http default
    (
        {"EMAIL_PROVIDER": "sendgrid", "SENDGRID_API_KEY": "SG.k", "PUBLIC_BASE_URL": "http://lre.example"},
        "PUBLIC_BASE_URL",
    ),
    (
        {
            "SMS_PROVIDER": "twilio",
            "TWILIO_ACCOUNT_SID": "AC1",
            "TWILIO_AUTH_TOKEN": "t",
            "TWILIO_FROM_NUMBER": "+15551234567",
            "PUBLIC_BASE_URL": "http://lre.example",
        },
        "PUBLIC_BASE_URL",
    ),
    ({"DATA_DIR": ""}, "DATA_DIR"),
]


def _bare_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Only what a Python process needs, so no variable of the caller's shell leaks in."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "DATA_DIR": str(tmp_path / "data")}
    env.update(extra)
    return env


@pytest.mark.parametrize(("environment", "variable"), MALFORMED, ids=[m[1] + str(i) for i, m in enumerate(MALFORMED)])
def test_malformed_variable_stops_migrate_with_one_line(
    tmp_path: Path, environment: dict[str, str], variable: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "migrate"],
        cwd=ROOT,
        env=_bare_environment(tmp_path, **environment),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0, output
    assert len(output.splitlines()) == 1, output
    assert variable in output, output
    assert not (tmp_path / "data").exists(), "it started servers before checking the settings"


def test_secret_values_are_not_echoed() -> None:
    with pytest.raises(SystemExit) as stopped:
        load_settings(secret_key="  ")
    assert "SECRET_KEY" in str(stopped.value)
    assert "'  '" not in str(stopped.value)


SENDGRID = {"email_provider": "sendgrid", "sendgrid_api_key": "SG.k"}
TWILIO = {
    "sms_provider": "twilio",
    "twilio_account_sid": "AC1",
    "twilio_auth_token": "t",
    "twilio_from_number": "+15551234567",
}


@pytest.mark.parametrize(
    ("providers", "named"),
    [
        (SENDGRID, "EMAIL_PROVIDER=sendgrid"),
        (TWILIO, "SMS_PROVIDER=twilio"),
        ({**SENDGRID, **TWILIO}, "EMAIL_PROVIDER=sendgrid and SMS_PROVIDER=twilio"),
    ],
    ids=["sendgrid", "twilio", "both"],
)
def test_a_real_provider_refuses_an_http_public_base_url_in_one_line(providers: dict[str, str], named: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        load_settings(public_base_url="http://lre.example", **providers)
    assert str(stopped.value) == (
        f"settings: PUBLIC_BASE_URL must be an https:// URL with {named} "
        "(RFC 8058 one-click unsubscribe links), got 'http://lre.example/'"
    )


@pytest.mark.parametrize("providers", [SENDGRID, TWILIO, {**SENDGRID, **TWILIO}], ids=["sendgrid", "twilio", "both"])
def test_a_real_provider_runs_with_an_https_public_base_url(providers: dict[str, str]) -> None:
    settings = load_settings(public_base_url="https://lre.example", **providers)
    assert str(settings.public_base_url) == "https://lre.example/"


def test_the_api_process_refuses_to_start_with_sendgrid_and_an_http_public_base_url(tmp_path: Path) -> None:
    environment = {"EMAIL_PROVIDER": "sendgrid", "SENDGRID_API_KEY": "SG.k", "PUBLIC_BASE_URL": "http://lre.example"}
    result = subprocess.run(
        [sys.executable, "-m", "uvicorn", "app.api:app", "--host", "127.0.0.1", "--port", "0"],
        cwd=ROOT,
        env=_bare_environment(tmp_path, **environment),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0, output
    assert output.splitlines() == [
        "settings: PUBLIC_BASE_URL must be an https:// URL with EMAIL_PROVIDER=sendgrid "
        "(RFC 8058 one-click unsubscribe links), got 'http://lre.example/'"
    ]


def test_the_sandboxes_accept_an_http_public_base_url() -> None:
    """Nothing reaches a person from the sandbox: the local demo keeps its http://localhost link."""
    settings = load_settings(public_base_url="http://localhost:8000", email_provider="sandbox", sms_provider="sandbox")
    assert str(settings.public_base_url) == "http://localhost:8000/"


def test_defaults_are_the_embedded_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    settings = load_settings()
    assert settings.database_url is None
    assert settings.redis_url is None
    assert settings.data_dir == ROOT / ".data"
    assert (settings.email_provider, settings.sms_provider) == ("sandbox", "sandbox")
    assert settings.ai_mode == "offline"
    assert settings.uses_dev_secret


def test_relative_data_dir_becomes_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(data_dir="demo-data").data_dir == tmp_path.resolve() / "demo-data"


def _readme_configuration_variables() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|", section, flags=re.MULTILINE))


def test_every_setting_is_in_the_readme_configuration_table() -> None:
    documented = _readme_configuration_variables()
    missing = sorted(name.upper() for name in Settings.model_fields if name.upper() not in documented)
    assert not missing, f"add a row to README.md's configuration table for: {', '.join(missing)}"
