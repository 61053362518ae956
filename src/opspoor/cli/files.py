"""Expand the PATH arguments of a command into files, recursively and in a stable order."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given, and every file below each folder (sorted; folder symlinks not followed,
    so a link loop on a seized disk cannot make the walk endless). Missing paths are yielded as
    they are, so that the caller reports them as per-file errors rather than stopping."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path, followlinks=False):
                dirs.sort()
                for name in sorted(files):
                    yield Path(root) / name
        else:
            yield path
