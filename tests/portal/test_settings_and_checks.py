"""Settings come from the environment; production refuses insecure configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from core import env
from tests.fixtures.production import manage


def test_env_bool_refuses_anything_but_a_boolean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_FLAG", "yes")
    assert env.env_bool("X_FLAG") is True
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env.env_bool("X_FLAG")


def test_env_int_checks_type_and_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_NUM", "abc")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env.env_int("X_NUM", 1)
    monkeypatch.setenv("X_NUM", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env.env_int("X_NUM", 5, minimum=1)


def test_secrets_can_come_from_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env.env_secret("X_SECRET") == "from-a-file"
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        env.env_secret("X_SECRET")


def test_networks_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_NETS", "10.0.0.0/8, ::1")
    assert [str(n) for n in env.env_networks("X_NETS")] == ["10.0.0.0/8", "::1/128"]
    monkeypatch.setenv("X_NETS", "10.0.0.0/8, nonsense")
    with pytest.raises(ImproperlyConfigured, match="nonsense"):
        env.env_networks("X_NETS")


def test_production_without_a_secret_key_refuses_to_start() -> None:
    result = manage("check", extra_env={"SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_deploy_check_passes_with_production_settings() -> None:
    # Behind nginx as in docker-compose.yml: its network and the secret it sends.
    edge = {"TRUSTED_PROXIES": "172.28.1.0/24", "PROXY_SECRET": "0123456789abcdef" * 4}
    result = manage("check", "--deploy", "--fail-level", "WARNING", extra_env=edge)
    assert result.returncode == 0, result.stdout + result.stderr
    # Without nginx's network nothing is believed to be HTTPS, and the redirect never ends.
    alone = manage("check", "--deploy", "--fail-level", "WARNING")
    assert alone.returncode != 0 and "portal.W012" in alone.stderr


def test_deploy_check_fails_while_captcha_test_mode_is_on() -> None:
    result = manage("check", "--deploy", extra_env={"CAPTCHA_TEST_MODE": "1"})
    assert result.returncode != 0
    assert "enrollment.E001" in result.stderr + result.stdout


def test_deploy_check_requires_redis_and_postgres_in_production() -> None:
    result = manage("check", "--deploy", extra_env={"REDIS_URL": "", "DATABASE_URL": ""})
    output = result.stderr + result.stdout
    assert result.returncode != 0
    assert "portal.E002" in output and "portal.E003" in output


def test_debug_is_off_by_default() -> None:
    result = manage("shell", "-c", "from django.conf import settings; print(settings.DEBUG)")
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


@pytest.mark.django_db  # registering the tasks runs Django's system checks
def test_every_beat_entry_names_a_registered_task() -> None:
    from django.conf import settings

    from core.queue import app_with_tasks

    app = app_with_tasks()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "enrollment.purge_expired_captchas" in scheduled
    assert scheduled <= set(app.tasks)
