"""The proxy secret on nginx's side: deploy/nginx/proxy-secret.sh, which the nginx image runs
at start to write the include that sends the secret, and how compose wires it."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.ops.test_compose import compose, services  # noqa: F401 - the parsed compose file

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "nginx" / "proxy-secret.sh"
GOOD = "Ab0_-" * 8  # 40 characters, every class the alphabet allows


def render(folder: Path, content: str | None) -> tuple[subprocess.CompletedProcess[str], Path]:
    secret_file = folder / "proxy_secret"
    if content is not None:
        secret_file.write_text(content)
    include = folder / "proxy-secret.conf"
    result = subprocess.run(
        ["sh", str(SCRIPT)],
        env={
            "PATH": "/usr/bin:/bin",
            "PROXY_SECRET_FILE": str(secret_file),
            "PROXY_SECRET_INCLUDE": str(include),
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result, include


def test_it_writes_the_header_nginx_sends_readable_by_root_only(tmp_path: Path) -> None:
    result, include = render(tmp_path, GOOD + "\n")
    assert result.returncode == 0, result.stderr
    lines = [line for line in include.read_text().splitlines() if not line.startswith("#")]
    assert lines == [f'proxy_set_header X-Proxy-Secret "{GOOD}";']
    assert stat.S_IMODE(include.stat().st_mode) == 0o600
    assert GOOD not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (GOOD + '";\n    proxy_pass http://evil;\n#', "ends nginx's string, adds a directive"),
        (GOOD + "}", "closes the location"),
        (GOOD + "$host", "an nginx variable"),
        (GOOD[:20] + "\n" + GOOD[:20], "a line break inside"),
        (GOOD + " ", "a space"),
        (GOOD + "\\", "a backslash"),
        (GOOD + "+/=", "standard base64, not base64url"),
        (GOOD + "é", "non-ASCII"),
        ("a" * 31, "too short"),
        ("a" * 257, "too long"),
        ("", "empty"),
    ],
)
def test_it_refuses_a_secret_that_could_change_the_configuration_or_is_weak(
    tmp_path: Path, content: str, why: str
) -> None:
    result, include = render(tmp_path, content)
    assert result.returncode != 0, why
    assert not include.exists(), why
    assert "nginx does not start" in result.stderr
    assert content.strip() == "" or content not in result.stderr


def test_it_refuses_a_missing_secret_file(tmp_path: Path) -> None:
    result, include = render(tmp_path, None)
    assert result.returncode != 0
    assert not include.exists()
    assert "PROXY_SECRET_FILE" in result.stderr


def test_it_is_executable_as_the_nginx_image_requires() -> None:
    # The image's entrypoint skips a script in /docker-entrypoint.d without the x bit; nginx
    # would then fail on the missing include instead of saying why.
    assert os.access(SCRIPT, os.X_OK)
    assert SCRIPT.read_text().startswith("#!/bin/sh\n")


def test_compose_gives_the_secret_to_nginx_and_web_alone(compose: dict[str, Any]) -> None:  # noqa: F811
    given = {
        name
        for name, service in services(compose).items()
        if "proxy_secret"
        in {s if isinstance(s, str) else s["source"] for s in service.get("secrets", [])}
    }
    assert given == {"nginx", "web"}
    for name in given:
        assert (
            services(compose)[name]["environment"]["PROXY_SECRET_FILE"]
            == "/run/secrets/proxy_secret"
        )
    mounts = [
        (str(v.get("source", "")), str(v.get("target", "")))
        if isinstance(v, dict)
        else tuple(str(v).split(":")[:2])
        for v in services(compose)["nginx"]["volumes"]
    ]
    assert any(
        source.endswith("deploy/nginx/proxy-secret.sh")
        and target.startswith("/docker-entrypoint.d/")
        and target.endswith(".sh")
        for source, target in mounts
    )
    assert "proxy_secret" in compose["secrets"]
