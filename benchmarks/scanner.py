"""Scanner throughput end to end: images per second from crawl to stored sighting.

A generated web site on loopback (served by uvicorn in a separate process, so it does not share our GIL):
`--pages` pages of `--per-page` images each, every image a distinct benign photo from
../shared/testdata/photos (BSDS500 then Caltech-101), one in ten of them on a hash list. One
single-process scan crawls it: fetch each page and image, hash every image with every signal (MD5,
SHA-1, SHA-256, reference-exact PDQ), match against the list, record every sighting in SQLite, then
score risk and queue. Baseline, in the same run: the same images hashed in memory by the same
parallelism (processes or threads), with no network, matching or store ("hash only").

    /work/venv/bin/python benchmarks/scanner.py --pages 50 --per-page 20

Only loopback addresses are contacted. The target in issue 7 is >= 200 images/s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = Path(os.environ.get("OPSPOOR_TESTDATA", ROOT.parent / "shared" / "testdata"))


def photo_paths(n: int) -> list[Path]:
    photos = TESTDATA / "photos"
    paths = sorted((photos / "bsds500").glob("*.jpg")) + sorted((photos / "caltech101").glob("*/*.jpg"))
    if len(paths) < n:
        sys.exit(f"need {n} photos under {photos}, found {len(paths)}")
    return paths[:n]


def serve(paths: list[Path], pages: int, per_page: int, ready: mp.Queue) -> None:  # type: ignore[type-arg]
    """The site's process: every resource in memory, served by uvicorn (httptools) from a bare
    ASGI app, so that the server's own cost stays small next to the scanner's."""
    import socket

    import uvicorn

    resources: dict[str, tuple[bytes, bytes]] = {"/robots.txt": (b"User-agent: *\nAllow: /\n", b"text/plain")}
    for i, path in enumerate(paths):
        resources[f"/img/{i}.jpg"] = (path.read_bytes(), b"image/jpeg")
    links = "".join(f"<a href='/page/{p}.html'>{p}</a>" for p in range(pages))
    html = b"text/html; charset=utf-8"
    resources["/"] = (f"<html><body>{links}</body></html>".encode(), html)
    for p in range(pages):
        imgs = "".join(f"<img src='/img/{p * per_page + k}.jpg'>" for k in range(per_page))
        resources[f"/page/{p}.html"] = (
            f"<html><body>{imgs}<a href='/'>home</a></body></html>".encode(),
            html,
        )

    async def app(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        if scope["type"] != "http":
            return
        body, kind = resources.get(scope["path"], (b"not found", b"text/plain"))
        status = 200 if scope["path"] in resources else 404
        headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": body})  # type: ignore[operator]

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # loopback only
    ready.put(f"http://127.0.0.1:{sock.getsockname()[1]}")
    config = uvicorn.Config(app, log_level="warning", http="httptools", lifespan="off", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def make_list(url: str, known: list[bytes]) -> None:
    from opspoor.lists.service import add_entries, create_list
    from opspoor.signals.compute import compute_signals
    from opspoor.store.db import open_store, transaction

    engine, factory = open_store(url)
    rows = []
    for data in known:
        s = compute_signals(data)
        rows += [{"signal_type": "sha256", "value": s.sha256}, {"signal_type": "pdq", "value": s.pdq}]
    with transaction(factory) as session:
        create_list(session, "bench-list", source="benchmark")
        add_entries(session, "bench-list", rows)
    engine.dispose()


def scan_on_ray(origin: str, settings: object, url: str, workers: int) -> float:
    """Images/s of the same scan spread over `workers` actors of a local Ray (start-up excluded)."""
    from dataclasses import replace

    import ray

    from opspoor.scanner.distributed import run_scan_on_ray

    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    try:
        start = time.perf_counter()
        summary = run_scan_on_ray([origin + "/"], replace(settings, hash_processes=0), url, workers=workers)  # type: ignore[type-var]
        return summary.media / (time.perf_counter() - start)
    finally:
        ray.shutdown()


def hash_only(datas: list[bytes], threads: int, processes: int) -> float:
    """Images/s of compute_signals alone, with the scan's parallelism (pool start-up excluded)."""
    from opspoor.signals.compute import compute_signals

    if processes:
        pool: Executor = ProcessPoolExecutor(processes, mp_context=mp.get_context("forkserver"))
        list(pool.map(compute_signals, datas[: processes * 2]))  # start the workers first
    else:
        pool = ThreadPoolExecutor(threads)
    start = time.perf_counter()
    with pool:
        list(pool.map(compute_signals, datas, chunksize=4 if processes else 1))
    return len(datas) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--per-page", type=int, default=20)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)), help="hashing threads")
    parser.add_argument(
        "--processes", type=int, default=len(os.sched_getaffinity(0)), help="hashing processes (0: threads)"
    )
    parser.add_argument("--media-concurrency", type=int, default=16)
    parser.add_argument("--host-concurrency", type=int, default=4, help="requests in flight (the default)")
    parser.add_argument("--ray", type=int, default=0, help="also scan on a local Ray with this many workers")
    args = parser.parse_args()

    from opspoor.scanner.scan import run_scan
    from opspoor.scanner.settings import ScanSettings

    n = args.pages * args.per_page
    paths = photo_paths(n)
    datas = [p.read_bytes() for p in paths]
    ctx = mp.get_context("spawn")
    ready = ctx.Queue()
    server = ctx.Process(target=serve, args=(paths, args.pages, args.per_page, ready), daemon=True)
    server.start()
    try:
        origin = ready.get(timeout=120)
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            make_list(url, datas[::10])
            settings = ScanSettings(
                max_pages=args.pages + 1, max_depth=1, allow_private=True, host_rate=1e6,
                host_concurrency=args.host_concurrency, media_concurrency=args.media_concurrency,
                hash_threads=args.threads, hash_processes=args.processes,
            )  # fmt: skip
            start, cpu_start = time.perf_counter(), time.process_time()
            stamps: list[float] = []  # when each page was done; the first is the index page
            summary = run_scan(
                [origin + "/"], settings, url, on_page=lambda _o: stamps.append(time.perf_counter())
            )
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            ray_rate = scan_on_ray(origin, settings, url, args.ray) if args.ray else None
        baseline = hash_only(datas, args.threads, args.processes)
    finally:
        server.terminate()
        server.join()
    rate = summary.media / wall
    mean_kib = sum(map(len, datas)) / n / 1024
    print(f"site: {args.pages} pages x {args.per_page} images = {n} images ({mean_kib:.0f} KiB mean)")
    print(f"scan: {summary.pages} pages, {summary.media} sightings, {summary.matched} matched, "
          f"{summary.errors} errors, {summary.queued} queued, {wall:.2f} s")  # fmt: skip
    print(f"end to end : {rate:8.1f} images/s  (crawl, fetch, hash, match, store, risk; start-up included)")
    steady = (summary.media) / (stamps[-1] - stamps[0])
    print(
        f"steady     : {steady:8.1f} images/s  (from the index page to the last page: no start-up, no risk)"
    )
    how = f"{args.processes} processes" if args.processes else f"{args.threads} threads"
    print(f"hash only  : {baseline:8.1f} images/s  (same images, {how}, in memory)")
    print(f"ratio      : {rate / baseline:8.2f} of hash-only throughput")
    if ray_rate is not None:
        print(f"Ray        : {ray_rate:8.1f} images/s  ({args.ray} workers on a local Ray, same site)")
    where = "all threads" if not args.processes else "crawler process; hashing processes not included"
    per_image = cpu / summary.media * 1000
    print(f"CPU        : {per_image:8.2f} ms per image in this process ({where})")
    if not args.processes:
        cores = len(os.sched_getaffinity(0))
        print(f"CPU bound  : {cores * 1000 / per_image:8.1f} images/s on {cores} idle cores (from CPU time)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (machine shared with other jobs)")
    if summary.media != n or summary.matched != len(datas[::10]):
        sys.exit(f"unexpected result: {summary.media} sightings, {summary.matched} matched")


if __name__ == "__main__":
    main()
