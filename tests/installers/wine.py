"""The Windows installer under Wine, with recording stand-ins for the tools it calls.

Wine's cmd runs the installer headless. curl.exe, certreq.exe, certutil.exe and timeout.exe
are one small Windows program (wine_standin.c, built with mingw-w64) that hands its
arguments to a server in the test process: Wine 8 starts a Linux program found on PATH but
neither waits for it nor gets its exit code, so a script stand-in could not fail a step or
keep the calls in order. The server (StandIns) records each call with the files the tool
read, answers the installer's HTTP requests from a queue per path, and writes what the real
tool would write (the CSR, curl's -o and -D files, its -w output).

chcp stands in for the console's code page, as Dutch Windows shows it ("Actieve
codetabel: 850."): Wine's own chcp neither reports one nor reads the script in another.

Found by Wine as the installer names them: `certreq`, `certutil`, `timeout` and `chcp` through
PATHEXT (so the files end in .exe), `curl.exe` as it is; WINEPATH puts them before
Wine's own (its certutil.exe, for one). Wine 8's `where` is a stub that always succeeds.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any
from urllib.parse import urlsplit

STANDIN_SOURCE = Path(__file__).with_name("wine_standin.c")
TOOLS = ("curl", "certreq", "certutil", "timeout", "chcp")
CROSS_COMPILER = "x86_64-w64-mingw32-gcc"
# What the certreq stand-in writes for -new: PEM text, as certreq does (the portal is a stand-in
# too, so it need not be a real request).
CSR_PEM = (
    b"-----BEGIN NEW CERTIFICATE REQUEST-----\r\n"
    b"TUlJQ1dqQ0NBVUlDQVFBd0ZURVRNQkVHQTFVRUF3d0tRVUl4TWk=\r\n"
    b"-----END NEW CERTIFICATE REQUEST-----\r\n"
)
CURL_OPTIONS = {
    "--request",
    "--dump-header",
    "--write-out",
    "--output",
    "-H",
    "--data-binary",
    "--url",
    "--cert",
    "--cacert",
    "--max-time",
    "--proto",
}
CURL_FLAGS = {"--silent", "--show-error", "--globoff"}


@dataclass(frozen=True)
class Response:
    """One answer of the portal; status 0 is "unreachable" (curl exits 7, writes 000)."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(cls, status: int, data: dict[str, Any], **headers: str) -> Response:
        header_items = tuple((name.replace("_", "-"), value) for name, value in headers.items())
        return cls(status, json.dumps(data).encode(), header_items)

    @classmethod
    def text(cls, **fields: str) -> Response:
        """A 200 answer to ``?format=text``: ``key=value`` lines."""
        return cls(200, "".join(f"{key}={value}\n" for key, value in fields.items()).encode())


@dataclass
class Call:
    tool: str
    args: list[str]
    # The contents of the files the tool read (the INF, the root certificate, the posted CSR,
    # the chain), by the option or position that named them.
    read: dict[str, bytes] = field(default_factory=dict)

    @property
    def request(self) -> str:
        """``METHOD /path?query`` of a curl call."""
        options = curl_options(self.args)
        url = urlsplit(options["--url"][0])
        return f"{options['--request'][0]} {url.path}" + (f"?{url.query}" if url.query else "")


def curl_options(args: list[str]) -> dict[str, list[str]]:
    """curl's arguments as {option: [values]}; flags map to [""]. Unknown ones raise."""
    options: dict[str, list[str]] = {}
    position = 0
    while position < len(args):
        arg = args[position]
        if arg in CURL_FLAGS:
            options.setdefault(arg, []).append("")
            position += 1
        elif arg in CURL_OPTIONS and position + 1 < len(args):
            options.setdefault(arg, []).append(args[position + 1])
            position += 2
        else:
            raise ValueError(f"curl stand-in: unexpected argument {arg!r} in {args!r}")
    return options


class StandIns:
    """One installer run's tools: what they answer, and what they were called with."""

    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        self.responses: dict[str, list[Response]] = {}
        # Exit codes by "tool first-argument", e.g. {"certreq -new": 1}; 0 otherwise.
        self.exit_codes: dict[str, int] = {}
        self.calls: list[Call] = []
        self.code_pages: list[tuple[int, list[str]]] = []
        self.errors: list[str] = []

    def respond(self, path: str, *responses: Response) -> None:
        """Answers for a path, in order; the last one repeats."""
        self.responses[path] = list(responses)

    def unix(self, windows_path: str) -> Path:
        """Where a file of the Wine prefix is, e.g. C:\\users\\root\\Temp\\x."""
        drive, rest = windows_path[0].lower(), windows_path[2:].lstrip("\\/")
        return (
            (self.prefix / "dosdevices" / f"{drive}:")
            .resolve()
            .joinpath(*PureWindowsPath(rest).parts)
        )

    def handle(self, tool: str, args: list[str]) -> tuple[int, bytes]:
        call = Call(tool, args)
        if tool == "chcp":
            # Kept apart from the calls that do the work: (how many came before, arguments).
            self.code_pages.append((len(self.calls), args))
        else:
            self.calls.append(call)
        handler = getattr(self, f"_{tool}")
        code, output = handler(call)
        override = self.exit_codes.get(f"{tool} {args[0] if args else ''}")
        return (code if override is None else override), output

    def _curl(self, call: Call) -> tuple[int, bytes]:
        options = curl_options(call.args)
        for data in options.get("--data-binary", []):
            call.read["--data-binary"] = self.unix(data.removeprefix("@")).read_bytes()
        for cacert in options.get("--cacert", []):
            call.read["--cacert"] = self.unix(cacert).read_bytes()
        # By the end of the path: a portal URL may have a path of its own.
        path = urlsplit(options["--url"][0]).path
        queue = next(
            (answers for known, answers in self.responses.items() if path.endswith(known)),
            [Response(599, b"no answer scripted")],
        )
        response = queue.pop(0) if len(queue) > 1 else queue[0]
        write_out = options["--write-out"][0]
        printed = write_out.replace("%{http_code}", f"{response.status:03d}").replace("\\n", "\n")
        if response.status == 0:
            return 7, printed.encode()
        status_line = f"HTTP/1.1 {response.status} Stand-in\r\n"
        headers = "".join(f"{name}: {value}\r\n" for name, value in response.headers)
        self.unix(options["--dump-header"][0]).write_text(status_line + headers + "\r\n")
        self.unix(options["--output"][0]).write_bytes(response.body)
        return 0, printed.encode()

    def _certreq(self, call: Call) -> tuple[int, bytes]:
        if call.args[:3] == ["-new", "-q", "-user"] and len(call.args) == 5:
            call.read["inf"] = self.unix(call.args[3]).read_bytes()
            self.unix(call.args[4]).write_bytes(CSR_PEM)
            return 0, b"CertReq: Request Created\r\n"
        if call.args[:3] == ["-accept", "-q", "-user"] and len(call.args) == 4:
            call.read["chain"] = self.unix(call.args[3]).read_bytes()
            return 0, b"Installed Certificate\r\n"
        return 87, b"certreq stand-in: unexpected arguments\r\n"

    def _certutil(self, call: Call) -> tuple[int, bytes]:
        if call.args[:3] == ["-user", "-addstore", "Root"] and len(call.args) == 4:
            call.read["certificate"] = self.unix(call.args[3]).read_bytes()
            return 0, b"CertUtil: -addstore command completed successfully.\r\n"
        return 87, b"certutil stand-in: unexpected arguments\r\n"

    def _timeout(self, call: Call) -> tuple[int, bytes]:
        # Records the wait instead of waiting: the argument is what the tests check.
        if len(call.args) == 3 and call.args[0] == "/t" and call.args[2] == "/nobreak":
            return 0, b""
        return 1, b"timeout stand-in: unexpected arguments\r\n"

    def _chcp(self, call: Call) -> tuple[int, bytes]:
        # Without an argument it reports the code page as Dutch Windows does; with one it
        # switches (recorded: the tests check which and when).
        if not call.args:
            return 0, b"Actieve codetabel: 850.\r\n"
        if len(call.args) == 1 and call.args[0].isdigit():
            return 0, b""
        return 1, b"chcp stand-in: unexpected arguments\r\n"


class StandInServer:
    """The server the stand-in program calls; serves the StandIns of the running test."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.current: StandIns | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _address = self.listener.accept()
            except OSError:
                return  # closed
            with connection:
                data = b""
                while chunk := connection.recv(65536):
                    data += chunk
                parts = [part.decode() for part in data.split(b"\0")[:-1]]
                code, output = self._answer(parts)
                connection.sendall(struct.pack("<i", code) + output)

    def _answer(self, parts: list[str]) -> tuple[int, bytes]:
        current = self.current
        if current is None or not parts:
            return 98, b"no test is running\r\n"
        tool = PureWindowsPath(parts[0]).stem.lower()
        try:
            return current.handle(tool, parts[1:])
        except Exception:  # a broken stand-in must fail the test, not hang the installer
            current.errors.append(traceback.format_exc())
            return 99, b"stand-in error\r\n"

    def close(self) -> None:
        self.listener.close()
        self.thread.join(timeout=5)


class Wine:
    """One Wine prefix with the stand-ins, for a whole test session (making it takes ~5 s)."""

    def __init__(self, root: Path, wine: str, compiler: str) -> None:
        self.root = root
        self.wine = wine
        self.prefix = root / "prefix"
        self.bin = root / "bin"
        self.bin.mkdir()
        self.prefix.mkdir()
        standin = root / "standin.exe"
        subprocess.run(
            [
                compiler,
                "-municode",
                "-O2",
                "-s",
                "-o",
                str(standin),
                str(STANDIN_SOURCE),
                "-lws2_32",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        for tool in TOOLS:
            shutil.copy(standin, self.bin / f"{tool}.exe")
        self.server = StandInServer()
        # A persistent wineserver keeps each run at a fraction of a second; ended in close().
        self.wineserver = subprocess.Popen(
            [shutil.which("wineserver") or "wineserver", "-f", "-p"],
            env=self.environment({}),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            # Output to a file, not a pipe: the Wine services that this first run starts
            # live as long as the wineserver and would hold a pipe open until then.
            with open(root / "prefix.log", "wb") as log:
                subprocess.run(
                    [wine, "cmd", "/c", "exit", "0"],
                    env=self.environment({}),
                    stdout=log,
                    stderr=log,
                    timeout=120,
                    check=True,
                )
        except BaseException:
            self.close()
            raise

    def environment(self, extra: dict[str, str]) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("CERTIFICAATPORTAAL_", "WINE")) and key != "DISPLAY"
        }
        env.update(
            WINEPREFIX=str(self.prefix),
            WINEDEBUG="-all",
            WINEPATH=windows_path(self.bin),
            STANDIN_PORT=str(self.server.port),
        )
        env.update(extra)
        return env

    @contextmanager
    def stand_ins(self) -> Iterator[StandIns]:
        stand_ins = StandIns(self.prefix)
        self.server.current = stand_ins
        try:
            yield stand_ins
        finally:
            self.server.current = None

    def run(
        self, script: bytes, directory: Path, env: dict[str, str]
    ) -> subprocess.CompletedProcess[str]:
        """``wine cmd /c installer.cmd`` in ``directory``, with CERTIFICAATPORTAAL_NO_PAUSE=1."""
        path = directory / "installer.cmd"
        path.write_bytes(script)
        work = directory / "cwd"
        work.mkdir()
        outputs = directory / "stdout.txt", directory / "stderr.txt"
        with open(outputs[0], "wb") as stdout, open(outputs[1], "wb") as stderr:
            # Files rather than pipes, for the same reason as in __init__.
            completed = subprocess.run(
                [self.wine, "cmd", "/c", windows_path(path)],
                cwd=work,
                env=self.environment({"CERTIFICAATPORTAAL_NO_PAUSE": "1", **env}),
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                timeout=60,
            )
        return subprocess.CompletedProcess(
            completed.args,
            completed.returncode,
            outputs[0].read_text(errors="replace"),
            outputs[1].read_text(errors="replace"),
        )

    def temp_directory(self) -> Path:
        """The prefix's %TEMP%, where the installer makes its working directory."""
        users = self.prefix / "drive_c" / "users"
        return next(p / "Temp" for p in users.iterdir() if (p / "Temp").is_dir())

    def close(self) -> None:
        subprocess.run(
            [shutil.which("wineserver") or "wineserver", "-k"],
            env=self.environment({}),
            capture_output=True,
            timeout=30,
        )
        try:
            self.wineserver.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.wineserver.terminate()
            self.wineserver.wait(timeout=10)
        self.server.close()


def windows_path(path: Path) -> str:
    """A Linux path as Wine's Z: drive shows it."""
    return "Z:" + str(path.resolve()).replace("/", "\\")
