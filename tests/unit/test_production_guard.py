"""The production guard: with a real provider selected (SendGrid, Twilio or an Anthropic key),
every process refuses to start, with one line, unless SECRET_KEY is 32+ random characters and
PUBLIC_BASE_URL is https; the demo never runs with a provider that reaches people; and no
error line echoes a secret (a malformed DATABASE_URL's password among them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.settings import DEV_SECRET_KEY, load_settings, production_refusal, production_settings
from tests.support import PRODUCTION_BASE_URL, PRODUCTION_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]
SENDGRID = {"EMAIL_PROVIDER": "sendgrid", "SENDGRID_API_KEY": "SG.k"}
TWILIO = {
    "SMS_PROVIDER": "twilio",
    "TWILIO_ACCOUNT_SID": "AC1",
    "TWILIO_AUTH_TOKEN": "t0ken",
    "TWILIO_FROM_NUMBER": "+15551234567",
}
ANTHROPIC = {"ANTHROPIC_API_KEY": "sk-ant-k"}


def bare_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Only what a Python process needs, so no variable of the caller's shell leaks in."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "DATA_DIR": str(tmp_path / "data")}
    env.update(extra)
    return env


def started(tmp_path: Path, command: list[str], environment: dict[str, str]) -> tuple[int, str]:
    result = subprocess.run(
        command,
        cwd=ROOT,
        env=bare_environment(tmp_path, **environment),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode, (result.stdout + result.stderr).strip()


def lower(environment: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in environment.items()}


@pytest.mark.parametrize(
    ("providers", "named"),
    [
        (SENDGRID, "EMAIL_PROVIDER=sendgrid"),
        (TWILIO, "SMS_PROVIDER=twilio"),
        (ANTHROPIC, "ANTHROPIC_API_KEY"),
        ({"SENDGRID_API_KEY": "SG.k"}, "SENDGRID_API_KEY"),
    ],
    ids=["sendgrid", "twilio", "anthropic", "sendgrid-key-only"],
)
def test_a_real_provider_with_the_development_secret_stops_the_cli_in_one_line(
    tmp_path: Path, providers: dict[str, str], named: str
) -> None:
    code, output = started(
        tmp_path, [sys.executable, "-m", "app", "migrate"], {**providers, "PUBLIC_BASE_URL": PRODUCTION_BASE_URL}
    )
    assert code != 0
    assert output.splitlines() == [output], output
    assert output.startswith(f"settings: SECRET_KEY is the public development key; {named}"), output
    assert DEV_SECRET_KEY not in output
    assert not (tmp_path / "data").exists(), "it started servers before refusing"


@pytest.mark.parametrize(
    "secret",
    ["short-but-random-Zq8", "a" * 40, "0101010101010101010101010101010101010101"],
    ids=["short", "one-character", "two-characters"],
)
def test_a_short_or_repetitive_secret_is_refused_and_not_echoed(secret: str) -> None:
    settings = load_settings(secret_key=secret, public_base_url=PRODUCTION_BASE_URL, **lower(ANTHROPIC))
    refusal = production_refusal(settings)
    assert refusal is not None
    assert refusal.startswith("settings: SECRET_KEY must be at least 32 random characters with ANTHROPIC_API_KEY")
    assert secret not in refusal


def test_an_anthropic_key_needs_an_https_public_base_url() -> None:
    settings = load_settings(secret_key=PRODUCTION_SECRET_KEY, public_base_url="http://lre.example", **lower(ANTHROPIC))
    assert production_refusal(settings) == (
        "settings: PUBLIC_BASE_URL must be an https:// URL with ANTHROPIC_API_KEY, got 'http://lre.example/'"
    )


@pytest.mark.parametrize("providers", [SENDGRID, TWILIO, ANTHROPIC, {**SENDGRID, **TWILIO, **ANTHROPIC}])
def test_a_random_secret_and_an_https_base_start(providers: dict[str, str]) -> None:
    settings = production_settings(
        secret_key=PRODUCTION_SECRET_KEY, public_base_url=PRODUCTION_BASE_URL, **lower(providers)
    )
    assert production_refusal(settings) is None


def test_sandboxes_start_with_the_development_secret() -> None:
    settings = production_settings()
    assert settings.uses_dev_secret
    assert settings.real_providers == []


def test_the_worker_refuses_to_start_in_one_line(tmp_path: Path) -> None:
    rq = str(Path(sys.executable).with_name("rq"))
    environment = {**SENDGRID, "PUBLIC_BASE_URL": PRODUCTION_BASE_URL, "PYTHONPATH": str(ROOT)}
    command = [rq, "worker", "--url", "redis://127.0.0.1:1/0", "--path", str(ROOT), "--config", "agents.rq_settings"]
    code, output = started(tmp_path, command, environment)
    assert code != 0
    assert output.splitlines()[-1].startswith("settings: SECRET_KEY is the public development key"), output


def test_the_api_refuses_to_start_in_one_line(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "uvicorn", "app.api:app", "--host", "127.0.0.1", "--port", "0"]
    code, output = started(tmp_path, command, {**ANTHROPIC, "PUBLIC_BASE_URL": PRODUCTION_BASE_URL})
    assert code != 0
    assert output.splitlines()[-1].startswith("settings: SECRET_KEY is the public development key"), output


def test_the_demo_refuses_a_provider_that_reaches_people(tmp_path: Path) -> None:
    """`run --demo` with Twilio would text the 20,000 made-up numbers of the seed."""
    environment = {**TWILIO, "SECRET_KEY": PRODUCTION_SECRET_KEY, "PUBLIC_BASE_URL": PRODUCTION_BASE_URL}
    code, output = started(tmp_path, [sys.executable, "-m", "app", "run", "--demo"], environment)
    assert code != 0
    assert output == (
        "settings: DEMO (python -m app run --demo) seeds made-up addresses and numbers; "
        "it cannot run with SMS_PROVIDER=twilio"
    )
    assert not (tmp_path / "data").exists()


def test_seeding_by_hand_refuses_a_provider_that_reaches_people(tmp_path: Path) -> None:
    environment = {**TWILIO, "SECRET_KEY": PRODUCTION_SECRET_KEY, "PUBLIC_BASE_URL": PRODUCTION_BASE_URL}
    code, output = started(tmp_path, [sys.executable, "-m", "app", "seed"], environment)
    assert code == 2
    assert output == "error: the demo's made-up addresses and numbers would become real targets of SMS_PROVIDER=twilio"
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    "url",
    [
        "mysql://lre:Hunter2Secret@db.example/lre",
        "postgresql://lre:Hunter2Secret@db.example:port/lre",
        "postgresql://lre@db.example:x/lre?password=Hunter2Secret",
    ],
    ids=["scheme", "port", "password-parameter"],
)
def test_a_malformed_database_url_never_echoes_its_password(tmp_path: Path, url: str) -> None:
    code, output = started(tmp_path, [sys.executable, "-m", "app", "migrate"], {"DATABASE_URL": url})
    assert code != 0
    assert output.splitlines() == [output], output
    assert output.startswith("settings: DATABASE_URL"), output
    assert "Hunter2Secret" not in output
    assert "***" in output


def test_a_malformed_redis_url_never_echoes_its_password(tmp_path: Path) -> None:
    code, output = started(
        tmp_path, [sys.executable, "-m", "app", "migrate"], {"REDIS_URL": "memcached://:Hunter2Secret@cache:6379/0"}
    )
    assert code != 0
    assert "Hunter2Secret" not in output
    assert (
        output
        == "settings: REDIS_URL must be a redis://, rediss:// or unix:// URL (got 'memcached://:***@cache:6379/0')"
    )


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    environment = {
        "DATABASE_URL": "postgresql://lre:Hunter2Secret@127.0.0.1:1/lre",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    code, output = started(tmp_path, [sys.executable, "-m", "app", "migrate"], environment)
    assert code == 2
    assert output.splitlines() == [output], output
    assert output.startswith("error: PostgreSQL (DATABASE_URL) cannot be reached: "), output
    assert "Hunter2Secret" not in output


@pytest.mark.parametrize(
    ("environment", "demo"),
    [
        ({"database_url": None}, True),  # plain `make run` on a fresh machine
        ({"demo": True}, True),
        ({"database_url": "postgresql://db.example/lre"}, False),
        ({"database_url": "postgresql://db.example/lre", "demo": True}, True),
        ({"database_url": None, **lower(ANTHROPIC)}, True),  # Claude writes, nothing reaches anyone
        (
            {
                "database_url": None,
                "email_provider": "sendgrid",
                "sendgrid_api_key": "SG.k",
                "public_base_url": PRODUCTION_BASE_URL,
                "secret_key": PRODUCTION_SECRET_KEY,
            },
            False,
        ),
    ],
    ids=["embedded", "asked", "configured", "configured-asked", "claude", "sendgrid"],
)
def test_what_is_the_demo(environment: dict[str, object], demo: bool) -> None:
    """Without DATABASE_URL and with nothing that reaches people, it is the demo; a configured
    database is the demo only when asked (`--demo`, which sets DEMO)."""
    assert load_settings(**environment).is_demo is demo
