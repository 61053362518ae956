from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from opspoor.cli.app import app
from opspoor.errors import OpspoorError
from opspoor.lists import service
from opspoor.store.db import open_store

MD5 = "098f6bcd4621d373cade4e832627b4f6"
PDQ = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"


def _run(*args: str, input: str | None = None) -> tuple[int, str]:
    """Exit code and output; opspoor's own errors end the run with their message, as main() does."""
    result = CliRunner().invoke(app, list(args), input=input)
    if isinstance(result.exception, OpspoorError):
        return 1, result.output + str(result.exception)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _photo(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:240, 0:320]
    base = np.stack([(x * (1 + c) + y * (3 - c)) % 256 for c in range(3)], axis=-1).astype(np.float64)
    noise = rng.normal(0, 25, size=(24, 32, 3)).repeat(10, axis=0).repeat(10, axis=1)
    Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8)).save(path, quality=92)


def test_create_import_export_disable_history(db_url: str, tmp_path: Path) -> None:
    db = ["--db", db_url]
    assert _run("lists", "create", "national", "--source", "police", "--supplier", "NPU", *db)[0] == 0
    code, out = _run("lists", "create", "national", *db)
    assert code == 1 and "exists already" in out
    csv_path = tmp_path / "in.csv"
    csv_path.write_text(f"signal_type,value,classification\nmd5,{MD5.upper()},iwf:A\npdq,{PDQ},ncmec:A2\n")
    code, out = _run("lists", "import", "national", str(csv_path), *db, "--actor", "alice")
    assert code == 0 and "2 added" in out

    code, out = _run("lists", "export", "national", *db)
    assert code == 0
    assert out.splitlines()[1:] == [f"md5,{MD5},iwf:A,,,", f"pdq,{PDQ},ncmec:A2,,,"]

    code, out = _run("lists", "disable", "national", MD5, "--reason", "stock photo", *db, "--actor", "bob")
    assert code == 0 and "disabled" in out
    code, out = _run("lists", "export", "national", *db)
    assert MD5 not in out
    code, out = _run("lists", "export", "national", "--all", *db)
    assert f"md5,{MD5},iwf:A,,,,disabled,stock photo," in out

    code, out = _run("lists", "show", *db)
    assert code == 0 and "national" in out and "police" in out
    code, out = _run("lists", "show", "national", *db)
    assert "NPU" in out and "1 active, 1 disabled" in out
    code, out = _run("lists", "history", "national", MD5, *db)
    assert code == 0 and "stock photo" in out and "added" in out and "bob" in out
    code, out = _run("lists", "history", "national", *db)
    assert "imported" in out and "created" in out

    code, out = _run("lists", "enable", "national", MD5, "--reason", "reviewed: it is bad", *db)
    assert code == 0 and "active" in out
    code, out = _run("lists", "switch", "national", "--off", *db)
    assert code == 0
    engine, factory = open_store(db_url)
    with factory() as session:
        assert list(service.active_entries(session)) == []
    engine.dispose()


def test_bad_import_reports_lines_and_imports_nothing(tmp_path: Path) -> None:
    _run("lists", "create", "l")
    bad = tmp_path / "bad.csv"
    bad.write_text(f"signal_type,value\nmd5,{MD5}\nmd5,xyz\nsha9,{MD5}\n")
    code, out = _run("lists", "import", "l", str(bad))
    assert code == 1
    assert "line 3" in out and "line 4" in out and "nothing was imported" in out
    code, out = _run("lists", "export", "l")
    assert out.strip() == "signal_type,value,classification,source_ref,item_key,quality"
    code, out = _run("lists", "import", "l", str(tmp_path / "missing.csv"))
    assert code == 1 and "cannot read" in out
    code, out = _run("lists", "import", "nolist", str(bad))
    assert code != 0


def test_lines_from_stdin_and_to_a_file(tmp_path: Path) -> None:
    _run("lists", "create", "l")
    code, out = _run(
        "lists", "import", "l", "-", "--format", "lines", "--signal", "md5", input=f"# md5s\n{MD5}\n\n"
    )
    assert code == 0 and "1 added" in out
    code, out = _run("lists", "export", "l", "--format", "lines")
    assert code == 1 and "--signal" in out
    target = tmp_path / "out.txt"
    code, out = _run("lists", "export", "l", "--format", "lines", "--signal", "md5", "-o", str(target))
    assert code == 0 and target.read_text() == f"{MD5}\n"


def test_add_media_groups_signals_and_skips_flat_pdq(tmp_path: Path) -> None:
    folder = tmp_path / "media"
    folder.mkdir()
    _photo(folder / "a.jpg", 1)
    _photo(folder / "b.jpg", 2)
    Image.new("RGB", (64, 64), (128, 128, 128)).save(folder / "flat.png")
    (folder / "notes.txt").write_bytes(b"not an image")
    _run("lists", "create", "analyst")
    code, out = _run("lists", "add", "analyst", str(folder), "--classification", "iwf:C", "--workers", "1")
    assert code == 0, out
    assert "PDQ quality" in out or "pdq quality" in out
    engine, factory = open_store()
    with factory() as session:
        rows = list(service.active_entries(session, ["analyst"]))
    engine.dispose()
    by_item: dict[str | None, set[str]] = {}
    for r in rows:
        by_item.setdefault(r.item_key, set()).add(r.signal_type)
        assert r.classification == "iwf:C"
    # md5, sha1, sha256 each; pictures also pdq and opspoor's robust views; flat and text: no pdq
    assert sorted(len(s) for s in by_item.values()) == [3, 3, 5, 5]
    assert {"pdq", "opspoor_pdq_views"} <= max(by_item.values(), key=len)
    assert all(r.quality is not None and r.quality >= 50 for r in rows if r.signal_type == "pdq")
    assert all(key is not None and len(key) == 64 for key in by_item)
    code, out = _run("lists", "add", "analyst", str(folder / "a.jpg"), "--workers", "1")
    assert "0 entries added, 5 already" in out
    code, out = _run("lists", "add", "analyst", str(folder / "a.jpg"), "--classification", "iwf:Z")
    assert code != 0


def test_threatexchange_export_can_be_read_back(tmp_path: Path) -> None:
    _run("lists", "create", "l")
    _run("lists", "import", "l", "-", "--format", "te-file", input=f"pdq {PDQ}\nvideo_md5 {MD5}\n")
    for fmt in ("te-csv", "te-json", "hma-json", "te-file"):
        code, out = _run("lists", "export", "l", "--format", fmt)
        assert code == 0 and PDQ in out and MD5 in out
        _run("lists", "create", f"copy-{fmt}")
        code, report = _run("lists", "import", f"copy-{fmt}", "-", "--format", fmt, input=out)
        assert code == 0 and "2 added" in report, report


@pytest.mark.parametrize("fmt", ["xml"])
def test_unknown_format_is_an_error(fmt: str) -> None:
    _run("lists", "create", "l")
    code, _ = _run("lists", "import", "l", "-", "--format", fmt, input=io.StringIO("x").getvalue())
    assert code != 0


def test_set_provenance_and_reclassify() -> None:
    _run("lists", "create", "l", "--terms", "police only")
    _run("lists", "import", "l", "-", "--format", "lines", "--signal", "md5", input=f"{MD5}\n")
    code, out = _run("lists", "set", "l", "--terms", "no sharing", "--supplier", "NPU", "--reason", "new MoU")
    assert code == 0 and "terms" in out
    assert _run("lists", "set", "l")[0] == 1
    code, out = _run("lists", "reclassify", "l", MD5, "ncmec:a2+ai", "--reason", "second look")
    assert code == 0 and "ncmec:A2+ai" in out
    code, out = _run("lists", "export", "l")
    assert f"md5,{MD5},ncmec:A2+ai" in out
    code, out = _run("lists", "history", "l")
    assert "police only" in out and "new MoU" in out and "reclassified" in out
    code, out = _run("lists", "reclassify", "l", MD5, "iwf:X", "--reason", "x")
    assert code == 1 and "unknown iwf category" in out
