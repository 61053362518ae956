"""Run a per-file function on all cores, in input order, with a progress bar on a terminal."""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

T = TypeVar("T")
R = TypeVar("R")


# One worker process per core already uses every core; BLAS/OpenMP thread pools inside each worker
# (NumPy's matrix products in PDQ fast mode, OpenCV) would only contend with the other workers.
_SINGLE_THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@contextmanager
def _single_threaded_children() -> Iterator[None]:
    """Set the thread-count variables (unless the user set them) while worker processes start."""
    added = [name for name in _SINGLE_THREAD_ENV if name not in os.environ]
    os.environ.update({name: _SINGLE_THREAD_ENV[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def map_with_progress(
    func: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int | None = None,
    label: str = "Hashing",
    initializer: Callable[..., None] | None = None,
    initargs: tuple[object, ...] = (),
) -> Iterator[R]:
    """Yield func(item) for each item in order. `func` must be picklable (a module-level function).

    One worker runs in this process (no pickling, easier debugging); more use a process pool,
    because decoding and hashing hold the GIL for most of their time.
    """
    workers = workers or default_workers()
    console = Console(stderr=True)
    show = console.is_terminal and len(items) > 1
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not show,
        transient=False,
    )
    with progress:
        task = progress.add_task(label, total=len(items))
        if workers <= 1 or len(items) <= 1:
            if initializer is not None:
                initializer(*initargs)
            for item in items:
                yield func(item)
                progress.advance(task)
            return
        ctx = mp.get_context("forkserver" if sys.platform != "win32" else "spawn")
        with _single_threaded_children():
            pool = ctx.Pool(workers, initializer=initializer, initargs=initargs)
        with pool:
            chunk = max(1, min(16, len(items) // (workers * 8)))
            for result in pool.imap(func, items, chunksize=chunk):
                yield result
                progress.advance(task)
