"""Backup and restore: the database and the CA key files, in one folder with a manifest.

Run both in the worker (the only place with the key volume). Key files stay encrypted with
CA_KEY_PASSPHRASE, which is a secret of its own and is not copied: keep it in the secret
store. An HSM's keys are not files; back them up with the HSM vendor's tools.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

MANIFEST = "manifest.json"
DATABASE_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
KEYS = "ca-keys"


class BackupError(Exception):
    pass


def _database() -> dict[str, object]:
    return dict(connection.settings_dict)


def _pg_env(database: dict[str, object]) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin"}
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = str(database["PASSWORD"])
    return env


def _pg_args(database: dict[str, object]) -> list[str]:
    return [
        "--host", str(database.get("HOST") or "127.0.0.1"),
        "--port", str(database.get("PORT") or 5432),
        "--username", str(database.get("USER") or "postgres"),
        "--dbname", str(database["NAME"]),
    ]  # fmt: skip


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def backup(folder: Path) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=False)
    folder.chmod(0o700)
    database = _database()
    if connection.vendor == "postgresql":
        target = folder / DATABASE_DUMP
        subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", "--file", str(target), *_pg_args(database)],
            check=True, env=_pg_env(database), capture_output=True, timeout=3600,
        )  # fmt: skip
    else:
        target = folder / SQLITE_COPY
        # SQLite's online backup: a consistent copy while the portal keeps writing.
        with sqlite3.connect(str(database["NAME"])) as source, sqlite3.connect(str(target)) as copy:
            source.backup(copy)
    files = {target.name: _sha256(target)}
    key_dir = Path(settings.CA_KEY_DIR) if settings.CA_KEY_DIR else None
    if key_dir and key_dir.is_dir():
        for key_file in sorted(key_dir.glob("*.pem")):
            (folder / KEYS).mkdir(mode=0o700, exist_ok=True)
            copied = folder / KEYS / key_file.name
            shutil.copy2(key_file, copied)
            copied.chmod(0o600)
            files[f"{KEYS}/{key_file.name}"] = _sha256(copied)
    manifest: dict[str, Any] = {
        "created_at": timezone.now().isoformat(),
        "vendor": connection.vendor,
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return manifest


def restore(folder: Path) -> dict[str, Any]:
    """Into an empty database and an empty (or missing) key directory; never over live data."""
    manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    for name, digest in manifest["files"].items():
        if _sha256(folder / name) != digest:
            raise BackupError(f"{name} does not match the manifest: the backup is damaged")
    if manifest["vendor"] != connection.vendor:
        raise BackupError(f"this backup is of {manifest['vendor']}, not {connection.vendor}")
    if connection.introspection.table_names():
        raise BackupError("the database is not empty: restore only into a new, empty database")
    keys = sorted((folder / KEYS).glob("*.pem")) if (folder / KEYS).is_dir() else []
    key_dir = Path(settings.CA_KEY_DIR) if settings.CA_KEY_DIR else None
    if keys and key_dir is None:
        raise BackupError("CA_KEY_DIR is not set: run the restore in the worker")
    for key_file in keys:
        if key_dir is not None and (key_dir / key_file.name).exists():
            raise BackupError(
                f"{key_dir / key_file.name} exists: restore keys only into an empty key directory"
            )
    database = _database()
    if connection.vendor == "postgresql":
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", *_pg_args(database), str(folder / DATABASE_DUMP)],
            check=True, env=_pg_env(database), capture_output=True, timeout=3600,
        )  # fmt: skip
    else:
        connection.close()
        with (
            sqlite3.connect(str(folder / SQLITE_COPY)) as source,
            sqlite3.connect(str(database["NAME"])) as live,
        ):
            source.backup(live)
    if keys and key_dir is not None:
        key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        for key_file in keys:
            shutil.copy2(key_file, key_dir / key_file.name)
            (key_dir / key_file.name).chmod(0o600)
    return manifest
