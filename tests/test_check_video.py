"""Videos through `opspoor lists add` and `opspoor check`: verdicts and matched segments (issue 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opspoor.cli.app import app

pytestmark = pytest.mark.slow


def _run(args: list[str], db_url: str) -> str:
    result = CliRunner().invoke(app, args, env={"OPSPOOR_DATABASE_URL": db_url}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_video_list_and_check(testdata: Path, tmp_path: Path) -> None:
    videos = testdata / "video"
    db_url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    _run(["lists", "create", "videos"], db_url)
    _run(["lists", "add", "videos", str(videos / "chair-orig-22-sd-bar.mp4")], db_url)
    queries = ["chair-20-sd-bar.mp4", "chair-19-sd-bar.mp4", "pattern-sd-grey-bar.mp4"]
    out = _run(["check", "--json", "--workers", "1"] + [str(videos / q) for q in queries], db_url)
    records = {Path(r["path"]).name: r for r in map(json.loads, out.splitlines())}

    full = records["chair-20-sd-bar.mp4"]
    assert full["verdict"] == "near" and full["kind"] == "video"
    assert [m["signal"] for m in full["matches"]] == ["vpdq"]
    (video,) = full["video_matches"]
    assert video["verdict"] == "match" and video["list"] == "videos"
    assert video["segments"] and video["segments"][0]["query_start"] < 1.0

    partial = records["chair-19-sd-bar.mp4"]
    assert partial["verdict"] == "near"
    assert partial["matches"][0]["variant"] == "partial"
    (video,) = partial["video_matches"]
    assert video["verdict"] == "partial"
    segment = video["segments"][0]
    # chair-20 starts 2.0 s into the original and chair-19 1.73 s into chair-20 (from Meta's
    # every-frame hashes): the segment places chair-19 about 3.73 s into the original.
    assert segment["target_start"] - segment["query_start"] == pytest.approx(3.73, abs=0.5)
    assert segment["query_end"] - segment["query_start"] > 5

    other = records["pattern-sd-grey-bar.mp4"]
    assert other["verdict"] == "unknown" and other["video_matches"] == []
