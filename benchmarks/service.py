"""Load test of the hash-check service on loopback: single-hash and 100-hash lookups against a
1M-hash list, and file checks with 1 MP JPEGs. Requests/s and p50/p99 latency.

    python benchmarks/service.py [--entries 1000000] [--workers 2] [--seconds 15]

The server (`opspoor serve --workers N`) and the load generator run as separate processes on this
machine; the generator is wrk (apt package `wrk`) when installed, else an async httpx client
(which needs much more CPU per request, so it measures lower). Baseline of the same run: GET
/v1/health, the framework's ceiling with no key, no body and no matching; lookups are reported as
a ratio of it. The list is built once and kept (`--data`), with random PDQ hashes; queries are
random PDQ hashes too (nearly all misses, as in production, where almost all uploads are unknown),
plus a run where every query is a hit (each hit is written to the audit log).
Target (issue 4): >= 3,000 single-hash lookups/s with p99 <= 20 ms on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = Path(os.environ.get("OPSPOOR_TESTDATA", ROOT.parent / "shared" / "testdata"))

WRK_SCRIPT = r"""
local bodies = {}
local paths = {}
local key = os.getenv("BENCH_KEY")
local kind = os.getenv("BENCH_KIND")
local hits = {}
for line in io.lines(os.getenv("BENCH_HITS")) do hits[#hits + 1] = line end
local function hex(n)
  local t = {}
  for i = 1, n do t[i] = string.format("%x", math.random(0, 15)) end
  return table.concat(t)
end
request = function()
  if kind == "health" then
    return wrk.format("GET", "/v1/health")
  end
  local items = {}
  if kind == "single" then
    items[1] = '{"signal":"pdq","value":"' .. hex(64) .. '"}'
  elseif kind == "md5" then
    items[1] = '{"signal":"md5","value":"' .. hex(32) .. '"}'
  elseif kind == "hit" then
    items[1] = '{"signal":"pdq","value":"' .. hits[math.random(1, #hits)] .. '"}'
  else
    for i = 1, 100 do items[i] = '{"signal":"pdq","value":"' .. hex(64) .. '"}' end
  end
  local body = '{"hashes":[' .. table.concat(items, ",") .. ']}'
  return wrk.format("POST", "/v1/check/hashes",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}, body)
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_store(db_url: str, entries: int, hits_file: Path) -> str:
    """The 1M-entry list (random PDQ hashes), built once; returns a checker key."""
    from opspoor.api.keys import create_key
    from opspoor.lists.importing import import_stream
    from opspoor.lists.service import create_list, list_names
    from opspoor.store.db import open_store, transaction

    engine, factory = open_store(db_url)
    rng = random.Random(20261121)
    with factory() as session:
        exists = "bench" in list_names(session)
    if not exists:
        start = time.perf_counter()
        values = [f"{rng.getrandbits(256):064x}" for _ in range(entries)]
        hits_file.write_text("\n".join(values[:: max(1, entries // 1000)]) + "\n")
        with transaction(factory) as session:
            create_list(session, "bench", owner_tenant="bench", source="benchmark: random PDQ hashes")
            import_stream(
                session, "bench", io.StringIO("\n".join(values)), "lines", signal="pdq", source="bench"
            )
        print(f"built list of {entries:,} PDQ hashes in {time.perf_counter() - start:.0f} s", flush=True)
    with transaction(factory) as session:
        key = create_key(session, "bench", ["checker"], label="benchmark")[1]
    engine.dispose()
    return key


def start_server(db_url: str, workers: int, log: Path, tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "OPSPOOR_API_RATE_PER_SECOND": "1000000",
        "OPSPOOR_API_RATE_BURST": "1000000",
        "OPSPOOR_HOME": str(tmp),
    }
    command = [
        sys.executable,
        "-c",
        "from opspoor.cli.app import main; main()",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--db",
        db_url,
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}"


def wait_ready(url: str, key: str, workers: int, proc: subprocess.Popen[bytes], log: Path) -> float:
    """Seconds until every worker answers /v1/ready (each loads the whole list into its index)."""
    start = time.perf_counter()
    ready_streak = 0
    while ready_streak < 4 * workers:  # several answers in a row: any worker may take each one
        if proc.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            r = httpx.get(f"{url}/v1/ready", headers={"X-API-Key": key}, timeout=2)
            ready_streak = ready_streak + 1 if r.status_code == 200 else 0
        except httpx.HTTPError:
            ready_streak = 0
        time.sleep(0.2)
    return time.perf_counter() - start


def run_wrk(url: str, kind: str, key: str, seconds: int, connections: int, script: Path, hits: Path) -> dict:
    env = {**os.environ, "BENCH_KEY": key, "BENCH_KIND": kind, "BENCH_HITS": str(hits)}
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50_ms": _ms(lat["50"]),
        "p99_ms": _ms(lat["99"]),
        "non2xx": int(errors.group(1)) if errors else 0,
    }


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def run_httpx(url: str, key: str, seconds: float, concurrency: int, make) -> dict:  # type: ignore[no-untyped-def]
    """An async httpx load generator: `make()` -> (method, path, kwargs) per request."""
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, limits=limits, timeout=60
    ) as client:

        async def worker() -> None:
            nonlocal failures
            while time.perf_counter() < deadline:
                method, path, kwargs = make()
                start = time.perf_counter()
                r = await client.request(method, path, **kwargs)
                latencies.append(time.perf_counter() - start)
                failures += r.status_code != 200

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {"rps": len(latencies) / elapsed, "p50_ms": pick(0.5), "p99_ms": pick(0.99), "non2xx": failures}


def one_mp_jpegs(count: int = 8) -> list[bytes]:
    """1 MP (1155x866) JPEGs from the benign test photos, or generated ones without test data."""
    import numpy as np
    from PIL import Image

    sources = sorted((TESTDATA / "photos" / "sun_hays80").glob("*"))[:count]
    images = []
    for i in range(count):
        if i < len(sources):
            image = Image.open(sources[i]).convert("RGB")
        else:
            rng = np.random.default_rng(i)
            image = Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8))
        out = io.BytesIO()
        image.resize((1155, 866), Image.Resampling.BICUBIC).save(out, "JPEG", quality=90)
        images.append(out.getvalue())
    return images


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "opspoor-bench-service")
    parser.add_argument("--db", default=None, help="database URL (default: SQLite in --data)")
    parser.add_argument("--generator", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--build-only", action="store_true", help="only build the list, then exit")
    args = parser.parse_args()

    args.data.mkdir(parents=True, exist_ok=True)
    db_url = args.db or f"sqlite:///{args.data / f'bench-{args.entries}.db'}"
    hits = args.data / f"hits-{args.entries}.txt"
    key = build_store(db_url, args.entries, hits)
    if args.build_only:
        return
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "httpx"
    script = args.data / "bench.lua"
    script.write_text(WRK_SCRIPT)
    tmp = Path(tempfile.mkdtemp(prefix="opspoor-bench-home-"))
    proc, url = start_server(db_url, args.workers, args.data / "server.log", tmp)
    results: dict[str, dict] = {}
    try:
        load = wait_ready(url, key, args.workers, proc, args.data / "server.log")
        print(
            f"server: {args.workers} workers, index of {args.entries:,} loaded in {load:.0f} s; "
            f"generator: {generator}, {args.connections} connections, {args.seconds} s per run",
            flush=True,
        )

        def lookups(kind: str, connections: int, seconds: int = args.seconds) -> dict:
            if generator == "wrk":
                return run_wrk(url, kind, key, seconds, connections, script, hits)
            rng = random.Random(1)
            hit_values = hits.read_text().split()

            def make():  # type: ignore[no-untyped-def]
                if kind == "health":
                    return "GET", "/v1/health", {}
                count = 100 if kind == "batch100" else 1
                signal, digits = ("md5", 32) if kind == "md5" else ("pdq", 64)
                values = [
                    rng.choice(hit_values) if kind == "hit" else f"{rng.getrandbits(4 * digits):0{digits}x}"
                    for _ in range(count)
                ]
                return (
                    "POST",
                    "/v1/check/hashes",
                    {"json": {"hashes": [{"signal": signal, "value": v} for v in values]}},
                )

            return asyncio.run(run_httpx(url, key, seconds, connections, make))

        # Warm-up, not measured: the first lookups after loading touch the index's pages for the
        # first time (page faults), which would count against whichever run came first.
        for kind in ("single", "md5"):
            lookups(kind, args.connections, seconds=5)
        for kind in ("health", "single", "md5", "batch100", "hit"):
            results[kind] = lookups(kind, args.connections)
            print(f"  {kind:9} {json.dumps(results[kind])}", flush=True)
        # The same lookups at low concurrency: the latency a lightly loaded service gives.
        for kind in ("single", "md5"):
            results[f"{kind}@4"] = lookups(kind, 4)
            print(f"  {kind}@4 {json.dumps(results[f'{kind}@4'])}", flush=True)
        photos = one_mp_jpegs()
        counter = iter(range(10**9))

        def file_request():  # type: ignore[no-untyped-def]
            data = photos[next(counter) % len(photos)]
            return "POST", "/v1/check/file", {"content": data, "headers": {"Content-Type": "image/jpeg"}}

        results["file_1mp"] = asyncio.run(run_httpx(url, key, args.seconds, 4, file_request))
        print(f"  file_1mp  {json.dumps(results['file_1mp'])}", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)

    base = results["health"]["rps"]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nresult ({os.cpu_count()} cores, load average {load}; server and generator share them):")
    print(
        f"{'run':34} {'req/s':>9} {'hashes/s':>10} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'vs health':>9} {'non-2xx':>8}"
    )
    rows = [
        ("GET /v1/health (baseline)", "health", 0),
        ("1 PDQ hash per request (misses)", "single", 1),
        ("1 MD5 hash per request (misses)", "md5", 1),
        ("1 PDQ hash, 4 connections", "single@4", 1),
        ("1 MD5 hash, 4 connections", "md5@4", 1),
        ("100 PDQ hashes per request", "batch100", 100),
        ("1 PDQ hash per request (hits)", "hit", 1),
        ("1 MP JPEG per request (4 conn.)", "file_1mp", 0),
    ]
    for label, kind, per in rows:
        r = results[kind]
        hashes = f"{r['rps'] * per:10.0f}" if per else f"{'':10}"
        print(
            f"{label:34} {r['rps']:9.0f} {hashes} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f}"
            f" {r['rps'] / base:9.2f} {r['non2xx']:8d}"
        )
    single = results["single"]
    verdict = "meets" if single["rps"] >= 3000 and single["p99_ms"] <= 20 else "misses"
    print(
        f"\nsingle-hash target >= 3000/s with p99 <= 20 ms: {verdict} "
        f"({single['rps']:.0f}/s, p99 {single['p99_ms']:.1f} ms)"
    )


if __name__ == "__main__":
    main()
