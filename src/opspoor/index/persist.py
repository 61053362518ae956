"""The on-disk format of indexes: a directory of .npy arrays and a versioned JSON header.

    <dir>/header.json    {"format": "<kind>", "version": N, "arrays": {name: {"dtype", "shape"}}, ...}
    <dir>/<name>.npy     one plain NumPy array per name (no pickle: np.load(allow_pickle=False))

Plain .npy files can be memory-mapped, so loading is instant and processes that open the same index
share its pages; any tool that reads NumPy can inspect them. A save writes a fresh directory next to
the target and renames it into place, so a crash mid-save leaves the previous index intact.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from opspoor.index.errors import IndexFormatError

HEADER = "header.json"


def save_arrays(
    path: str | os.PathLike[str],
    kind: str,
    version: int,
    meta: dict[str, Any],
    arrays: dict[str, np.ndarray],
) -> None:
    target = Path(path)
    if target.exists() and not (target / HEADER).is_file():
        raise IndexFormatError(f"refusing to overwrite {target}: it is not a saved opspoor index")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        header: dict[str, Any] = {"format": kind, "version": version, **meta, "arrays": {}}
        for name, array in arrays.items():
            array = np.ascontiguousarray(array)
            np.save(tmp / f"{name}.npy", array, allow_pickle=False)
            header["arrays"][name] = {"dtype": array.dtype.str, "shape": list(array.shape)}
        # The header goes last: a directory without it is never mistaken for a complete index.
        (tmp / HEADER).write_text(json.dumps(header, indent=1, sort_keys=True) + "\n")
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def load_arrays(
    path: str | os.PathLike[str], kind: str, version: int, mmap: bool
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and arrays of a saved index, checked against what the header promises."""
    source = Path(path)
    try:
        header = json.loads((source / HEADER).read_text())
    except FileNotFoundError:
        raise IndexFormatError(f"{source} is not a saved index: {HEADER} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexFormatError(f"{source / HEADER} is damaged: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != kind:
        found = header.get("format") if isinstance(header, dict) else None
        raise IndexFormatError(f"{source} holds a {found!r} index, not {kind!r}")
    if header.get("version") != version:
        raise IndexFormatError(
            f"{source} has format version {header.get('version')!r}; this opspoor reads version {version}"
            " (rebuild the index from the lists)"
        )
    specs = header.get("arrays")
    if not isinstance(specs, dict):
        raise IndexFormatError(f"{source / HEADER} lists no arrays")
    arrays: dict[str, np.ndarray] = {}
    for name, spec in specs.items():
        file = source / f"{name}.npy"
        try:
            array = np.load(file, mmap_mode="c" if mmap else None, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise IndexFormatError(f"{file} is missing or damaged: {exc}") from None
        if array.dtype.str != spec.get("dtype") or list(array.shape) != spec.get("shape"):
            raise IndexFormatError(
                f"{file} holds {array.dtype.str} {list(array.shape)}, header says"
                f" {spec.get('dtype')} {spec.get('shape')}"
            )
        arrays[name] = array
    return header, arrays
