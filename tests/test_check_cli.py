"""`opspoor check` end to end through the CLI, on SQLite and PostgreSQL (issue 3's triage checks)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opspoor.cli.app import app


def _run(args: list[str], db_url: str) -> str:
    result = CliRunner().invoke(app, args, env={"OPSPOOR_DATABASE_URL": db_url}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _records(stdout: str) -> dict[str, dict]:
    records = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return {r["path"]: r for r in records}


def test_bridge_list_triage(testdata: Path, tmp_path: Path, db_url: str) -> None:
    pdq = testdata / "pdq"
    original = pdq / "bridge-mods" / "aaa-orig.jpg"
    _run(["lists", "create", "bridge", "--source", "test: Meta PDQ sample photo"], db_url)
    _run(["lists", "add", "bridge", str(original)], db_url)
    copy = tmp_path / "renamed-copy.jpg"
    shutil.copyfile(original, copy)
    mods = sorted(p for p in (pdq / "bridge-mods").iterdir() if p != original)
    dih = sorted((pdq / "dih").iterdir())
    labelme = sorted((pdq / "labelme-subset").iterdir())
    photos = sorted((testdata / "photos" / "bsds500").iterdir())[:25]
    report = tmp_path / "report.html"
    stdout = _run(
        ["check", "--json", "--list", "bridge", "--workers", "1", "--report", str(report)]
        + [str(p) for p in [copy, *mods, *dih, *labelme, *photos]],
        db_url,
    )
    records = _records(stdout)
    assert len(records) == 1 + len(mods) + len(dih) + len(labelme) + len(photos)

    assert records[str(copy)]["verdict"] == "known"
    assert {m["signal"] for m in records[str(copy)]["matches"]} >= {"md5", "sha256", "pdq"}
    for path in mods + dih:
        record = records[str(path)]
        pdq_matches = [m for m in record["matches"] if m["signal"] == "pdq"]
        assert pdq_matches and pdq_matches[0]["distance"] <= 31, path
        assert pdq_matches[0]["list"] == "bridge"
        if path.name == "bridge-1-original.jpg":
            # byte-identical with aaa-orig.jpg, so its file hash is on the list: known, not just near
            assert record["verdict"] == "known"
        else:
            assert record["verdict"] == "near", path
    for path in labelme + photos:
        assert records[str(path)]["verdict"] == "unknown", path
        assert records[str(path)]["error"] is None
    low = [records[str(p)] for p in labelme if records[str(p)]["pdq_quality"] < 50]
    assert low and all(any("quality" in n for n in r["notes"]) for r in low)

    html = report.read_text()
    assert "Triage report" in html and "unknown" in html
    # The report never shows an image: its only picture is the chart.
    assert html.count("<img") == 1 and "data:image/png;base64," in html


def test_check_reports_bad_files_and_goes_on(testdata: Path, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    _run(["lists", "create", "empty"], db_url)
    missing = tmp_path / "gone.jpg"
    text = testdata / "badinput" / "test_text_file.txt"
    good = testdata / "badinput" / "Invalid_image_size.jpg"
    result = CliRunner().invoke(
        app,
        ["check", "--json", "--workers", "1", str(missing), str(text), str(good)],
        env={"OPSPOOR_DATABASE_URL": db_url},
    )
    assert result.exit_code == 1  # one file could not be read at all
    records = _records(result.stdout)
    assert records[str(missing)]["verdict"] == "error" and "cannot read" in records[str(missing)]["error"]
    assert records[str(text)]["verdict"] == "unknown" and "not an image" in records[str(text)]["error"]
    assert records[str(good)]["verdict"] == "unknown" and records[str(good)]["error"] is None


def test_check_with_unknown_list_is_a_clear_error(tmp_path: Path) -> None:
    from opspoor.errors import OpspoorError

    db_url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with pytest.raises(OpspoorError, match="no list named"):
        CliRunner().invoke(
            app,
            ["check", "--list", "nope", str(tmp_path)],
            env={"OPSPOOR_DATABASE_URL": db_url},
            catch_exceptions=False,
        )


def test_demo_runs_and_meets_its_expectations(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--workdir", str(tmp_path / "demo"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "All verdicts as expected." in result.stdout
    assert (tmp_path / "demo" / "report.html").is_file()
