"""Start `opspoor serve` in a subprocess on a free loopback port, for the API tests and the benchmark.

Not a test module (no test_ prefix): tests import it. The server gets its own empty TMPDIR and data
directory so tests can prove that checking a file writes nothing to disk.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from opspoor.api.keys import create_key
from opspoor.store.db import open_store, transaction

# Settings of the test servers: a small file limit so 413 is cheap to provoke, a short key cache so
# revocation shows quickly, a rate limit that the rate test can exceed but the other tests do not.
TEST_ENV = {
    "OPSPOOR_API_MAX_FILE_BYTES": str(3 * 1024 * 1024),
    "OPSPOOR_API_KEY_CACHE_SECONDS": "0.5",
    "OPSPOOR_API_RATE_PER_SECOND": "20",
    "OPSPOOR_API_RATE_BURST": "30",
    "OPSPOOR_API_REFRESH_INTERVAL": "0.5",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    db_url: str
    home: Path
    tmpdir: Path
    proc: subprocess.Popen[bytes]
    log: Path
    keys: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(
    db_url: str, home: Path, tmpdir: Path, log: Path, env: Mapping[str, str] | None = None, workers: int = 1
) -> Server:
    port = free_port()
    full_env = {
        **os.environ,
        **TEST_ENV,
        **(env or {}),
        "OPSPOOR_HOME": str(home),
        "TMPDIR": str(tmpdir),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "-c", "from opspoor.cli.app import main; main()",
        "serve", "--host", "127.0.0.1", "--port", str(port), "--db", db_url,
        "--workers", str(workers), "--log-level", "warning",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", db_url, home, tmpdir, proc, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/v1/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"server did not come up:\n{log.read_text()[-3000:]}")


def make_keys(db_url: str, wanted: Mapping[str, tuple[str, tuple[str, ...]]]) -> dict[str, str]:
    """name -> key, for name -> (tenant, roles)."""
    engine, factory = open_store(db_url)
    try:
        out = {}
        with transaction(factory) as session:
            for name, (tenant, roles) in wanted.items():
                out[name] = create_key(session, tenant, roles, label=name)[1]
        return out
    finally:
        engine.dispose()
