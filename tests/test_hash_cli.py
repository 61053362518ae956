"""`opspoor hash` end to end: the reference vectors, bad files among good ones, exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from opspoor.cli.app import app
from opspoor.cli.hash_cmd import RECORD_KEYS, hash_path
from opspoor.cli.parallel import default_workers, map_with_progress
from opspoor.signals.pdq import hamming
from test_media_samples import encode, pattern, png_bomb

OPSPOOR = [str(Path(sys.executable).parent / "opspoor")]


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, list[dict[str, object]], str]:
    proc = subprocess.run(
        [*OPSPOOR, "hash", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return proc.returncode, records, proc.stderr


def _by_name(records: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {Path(str(r["path"])).name: r for r in records}


@pytest.mark.testdata
def test_json_over_reference_folder_is_exact(testdata: Path) -> None:
    folder = testdata / "pdq"
    code, records, stderr = _run("--json", str(folder))
    by_path = {str(Path(str(r["path"])).relative_to(folder)): r for r in records}
    with (folder / "expected.csv").open() as fh:
        expected = list(csv.DictReader(fh))
    for row in expected:
        record = by_path[row["path"]]
        assert (record["pdq"], record["pdq_quality"], record["error"]) == (
            row["pdq_hex"],
            int(row["quality"]),
            None,
        ), row["path"]
    for record in records:
        assert tuple(record)[: len(RECORD_KEYS)] == RECORD_KEYS
        assert isinstance(record["md5"], str) and len(record["md5"]) == 32
    failed = sorted(Path(str(r["path"])).suffix for r in records if r["error"])
    assert failed == [".csv", ".csv", ".md"]  # the CSVs and the README: not images
    assert code == 1
    assert "Hashing" not in stderr  # no progress bar when stderr is not a terminal


@pytest.mark.testdata
def test_dihedral_flag(testdata: Path) -> None:
    original = testdata / "pdq" / "dih" / "bridge-1-original.jpg"
    code, records, _ = _run("--json", "--dihedral", str(original))
    with (testdata / "pdq" / "expected-dihedral-bridge-1-original.csv").open() as fh:
        expected = [r["pdq_hex"] for r in csv.DictReader(fh)]
    assert code == 0 and records[0]["pdq_dihedral"] == expected
    assert records[0]["pdq"] == expected[0]


@pytest.mark.testdata
def test_badinput_folder(testdata: Path) -> None:
    code, records, _ = _run("--json", str(testdata / "badinput"))
    got = _by_name(records)
    webp = got["Agfa_DC-504_0_25_invalid.jpeg"]
    assert webp["error"] is None and webp["format"] == "WEBP" and webp["pdq"]
    small = got["Invalid_image_size.jpg"]
    assert small["error"] is None and (small["width"], small["height"]) == (100, 100) and small["pdq"]
    text = got["test_text_file.txt"]
    assert "not an image" in str(text["error"]) and text["pdq"] is None and text["sha256"]
    assert code == 1


def _bad_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mixed"
    folder.mkdir()
    jpeg = encode(pattern(320, 240), "JPEG", quality=90)
    (folder / "a_good.jpg").write_bytes(jpeg)
    (folder / "b_notes.txt").write_text("meeting notes, not a photo\n" * 10)
    (folder / "c_random.jpg").write_bytes(random.Random(3).randbytes(5000))
    (folder / "d_empty.jpg").write_bytes(b"")
    (folder / "e_truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (folder / "f_bomb.png").write_bytes(png_bomb(30000, 30000, block_rows=35))
    (folder / "g_good.png").write_bytes(encode(pattern(200, 200, seed=1), "PNG"))
    return folder


EXPECTED_ERRORS = {
    "b_notes.txt": "not an image",
    "c_random.jpg": "not an image",
    "d_empty.jpg": "empty file",
    "e_truncated.jpg": "truncated",
    "f_bomb.png": "30000x30000",
}


@pytest.mark.parametrize("workers", ["1", "2"])
def test_bad_files_are_reported_and_the_run_goes_on(tmp_path: Path, workers: str) -> None:
    folder = _bad_folder(tmp_path)
    missing = str(tmp_path / "missing.jpg")
    code, records, stderr = _run("--json", "--workers", workers, str(folder), missing)
    got = _by_name(records)
    assert list(got) == sorted(p.name for p in folder.iterdir()) + ["missing.jpg"]  # input order
    for name, fragment in EXPECTED_ERRORS.items():
        assert fragment in str(got[name]["error"]), (name, got[name]["error"])
        assert got[name]["pdq"] is None
    assert "cannot read file" in str(got["missing.jpg"]["error"])
    for name in ("a_good.jpg", "g_good.png"):
        assert got[name]["error"] is None and len(str(got[name]["pdq"])) == 64
    assert got["f_bomb.png"]["md5"]  # file hashes are still given where decoding is refused
    assert code == 1
    assert "Traceback" not in stderr


def test_all_good_exits_zero_and_human_output(tmp_path: Path) -> None:
    (tmp_path / "x.png").write_bytes(encode(pattern(), "PNG"))
    result = CliRunner().invoke(app, ["hash", "--workers", "1", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "x.png" in result.output and "pdq=" in result.output


def test_fast_flag_reduces_the_decode(tmp_path: Path) -> None:
    big = Image.fromarray(pattern(400, 300, seed=8)).resize((4000, 3000), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    big.save(buf, "JPEG", quality=90)
    (tmp_path / "big.jpg").write_bytes(buf.getvalue())
    runner = CliRunner()
    default = json.loads(runner.invoke(app, ["hash", "--json", "--workers", "1", str(tmp_path)]).output)
    args = ["hash", "--json", "--fast", "--workers", "1", str(tmp_path)]
    fast = json.loads(runner.invoke(app, args).output)
    assert (default["decode_scale"], fast["decode_scale"]) == (1, 4)
    assert hamming(str(default["pdq"]), str(fast["pdq"])) <= 10
    assert default["sha256"] == fast["sha256"]


def test_limits_from_environment(tmp_path: Path) -> None:
    (tmp_path / "x.png").write_bytes(encode(pattern(), "PNG"))
    code, records, _ = _run("--json", str(tmp_path), env={"OPSPOOR_MAX_PIXELS": "1000"})
    assert code == 1 and "over the limit of 1000" in str(records[0]["error"])
    code, records, _ = _run("--json", str(tmp_path), env={"OPSPOOR_MAX_BYTES": "100"})
    assert code == 1 and "over the limit of 100 bytes" in str(records[0]["error"])
    code, records, stderr = _run("--json", str(tmp_path), env={"OPSPOOR_MAX_PIXELS": "many"})
    assert code == 2 and not records and "OPSPOOR_MAX_PIXELS must be a whole number" in stderr


def test_map_with_progress_keeps_order_on_all_cores(tmp_path: Path) -> None:
    assert default_workers() == len(os.sched_getaffinity(0))
    files = []
    for i in range(6):
        path = tmp_path / f"{i}.png"
        path.write_bytes(encode(pattern(64, 64, seed=i), "PNG"))
        files.append(path)
    jobs = [(f, False, False) for f in files]
    serial = list(map_with_progress(hash_path, jobs, workers=1))
    parallel = list(map_with_progress(hash_path, jobs, workers=2))
    assert parallel == serial and [r["path"] for r in serial] == [str(f) for f in files]


def test_progress_bar_only_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    list(map_with_progress(abs, [-1, -2, -3], workers=1, label="Hashing"))
    assert "Hashing" not in capsys.readouterr().err
    monkeypatch.setattr("rich.console.Console.is_terminal", property(lambda self: True))
    assert list(map_with_progress(abs, [-1, -2, -3], workers=1, label="Hashing")) == [1, 2, 3]
    assert "Hashing" in capsys.readouterr().err


def test_workers_run_single_threaded_blas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    assert list(map_with_progress(os.getenv, ["OPENBLAS_NUM_THREADS"] * 2, workers=2)) == ["1", "1"]
    assert "OPENBLAS_NUM_THREADS" not in os.environ  # the parent's environment is left as it was


def test_exif_orientation_is_in_the_record(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(pattern()).save(tmp_path / "turned.jpg", "JPEG", quality=90, exif=exif)
    result = CliRunner().invoke(app, ["hash", "--json", "--workers", "1", str(tmp_path)])
    record = json.loads(result.output)
    assert result.exit_code == 0 and record["orientation"] == 6
    assert (record["width"], record["height"]) == (320, 240)  # as stored, not turned
