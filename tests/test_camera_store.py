"""Enrolment, storage, matching, reports and video through the service layer and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from opspoor.camera import registry, service, synthetic
from opspoor.camera.errors import CameraError, ShapeMismatch, UnknownCamera
from opspoor.camera.pce import PCE_THRESHOLD
from opspoor.camera.video import STABILISATION_NOTE, video_frames
from opspoor.cli.app import app
from opspoor.store.db import data_dir, open_store, transaction

SHAPE = (192, 256)


def scene(seed: int, shape: tuple[int, int]) -> np.ndarray:
    return synthetic.smooth_scene(seed, shape)


def write_shots(folder: Path, seed: int, n: int, k: np.ndarray, prefix: str = "p") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        px = synthetic.expose(scene(seed + i, SHAPE), k, seed + i, 95)
        path = folder / f"{prefix}{i:02d}.jpg"
        Image.fromarray(px).save(path, quality=92)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def patterns() -> list[np.ndarray]:
    return [synthetic.sensor_pattern(SHAPE, 0.03, s) for s in (11, 12)]


def test_enroll_match_disable(db_url: str, tmp_path: Path, patterns: list[np.ndarray]) -> None:
    a = write_shots(tmp_path / "a", 100, 10, patterns[0])
    b = write_shots(tmp_path / "b", 200, 10, patterns[1])
    queries = write_shots(tmp_path / "q", 300, 2, patterns[0], prefix="q")
    engine, factory = open_store(db_url)
    try:
        with transaction(factory) as s:
            row = service.enroll(s, "cam-a", a, flat_field=False, case_ref="C-1", item_ref="I-7")
            service.enroll(s, "cam-b", b)
            assert (row.width, row.height, row.media_count, row.case_ref) == (256, 192, 10, "C-1")
        with transaction(factory) as s, pytest.raises(CameraError):
            service.enroll(s, "cam-a", a)
        with transaction(factory) as s:
            cams = [registry.load(r) for r in registry.active(s)]
        result = service.match_file(queries[0], cams)
        record = result.as_dict()
        assert set(record) >= {"path", "camera", "pce", "decision", "candidates"}
        assert record["camera"] == "cam-a" and record["decision"] == "match"
        assert record["pce"] >= PCE_THRESHOLD
        assert [c["camera"] for c in record["candidates"]] == ["cam-a", "cam-b"]
        assert {c["status"] for c in record["candidates"]} == {"searched"}
        with transaction(factory) as s:
            registry.disable(s, "cam-a", "disputed enrolment")
        with transaction(factory) as s:
            assert [r.name for r in registry.active(s)] == ["cam-b"]
            assert registry.get(s, "cam-a").reason == "disputed enrolment"
            with pytest.raises(UnknownCamera):
                registry.get(s, "nope")
    finally:
        engine.dispose()


def test_tampered_fingerprint_file_is_refused(tmp_path: Path, patterns: list[np.ndarray]) -> None:
    engine, factory = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with transaction(factory) as s:
            row = service.enroll(s, "cam", write_shots(tmp_path / "a", 1, 3, patterns[0]))
            path = data_dir() / row.fingerprint_path
        original = path.read_bytes()
        flipped = bytearray(original)
        flipped[20_000] ^= 0xFF  # inside K's data: the zip still opens, the hash no longer matches
        path.write_bytes(bytes(flipped))
        with transaction(factory) as s:
            camera = registry.load(registry.get(s, "cam"))
        with pytest.raises(CameraError, match="changed"):
            _ = camera.k
        path.write_bytes(original[:-10])  # truncated: refused at once
        with transaction(factory) as s, pytest.raises(CameraError, match="unreadable"):
            registry.load(registry.get(s, "cam"))
    finally:
        engine.dispose()


def test_enroll_refuses_mixed_sizes(tmp_path: Path, patterns: list[np.ndarray]) -> None:
    paths = write_shots(tmp_path / "a", 1, 2, patterns[0])
    Image.fromarray(scene(5, (100, 120))).save(tmp_path / "a" / "small.jpg")
    engine, factory = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with transaction(factory) as s, pytest.raises(ShapeMismatch):
            service.enroll(s, "cam", [*paths, tmp_path / "a" / "small.jpg"])
    finally:
        engine.dispose()


def test_cli_enroll_match_compare_cluster_report(tmp_path: Path, patterns: list[np.ndarray]) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    a = write_shots(tmp_path / "a", 400, 8, patterns[0])
    write_shots(tmp_path / "b", 500, 8, patterns[1])
    q = write_shots(tmp_path / "q", 600, 2, patterns[1], prefix="q")
    enroll = ["camera", "enroll", "cam-a", str(tmp_path / "a"), "--case", "K1", "--db", db, "--json"]
    res = runner.invoke(app, enroll)
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["case"] == "K1"
    res = runner.invoke(app, ["camera", "enroll", "cam-b", str(tmp_path / "b"), "--db", db])
    assert res.exit_code == 0, res.output
    bad = tmp_path / "bad.jpg"
    bad.write_text("not an image")
    res = runner.invoke(app, ["camera", "match", str(q[0]), str(bad), "--db", db, "--json"])
    assert res.exit_code == 1
    lines = [json.loads(line) for line in res.output.splitlines() if line.startswith("{")]
    assert lines[0]["camera"] == "cam-b" and lines[0]["decision"] == "match"
    assert lines[1]["decision"] == "error" and lines[1]["error"]
    res = runner.invoke(app, ["camera", "compare", str(q[0]), str(q[1]), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["pce"] > 0
    res = runner.invoke(app, ["camera", "cluster", str(tmp_path / "a"), str(tmp_path / "b"), "--json"])
    assert res.exit_code == 0, res.output
    groups = json.loads(res.output)
    assert sorted(len(g["members"]) for g in groups)[-2:] == [8, 8]
    out = tmp_path / "report.html"
    report = ["camera", "report", str(q[0]), "--out", str(out), "--case", "K1", "--db", db]
    res = runner.invoke(app, [*report, "--png-dir", str(tmp_path / "png")])
    assert res.exit_code == 0, res.output
    pngs = sorted(p.name for p in (tmp_path / "png").glob("*.png"))
    assert pngs == ["000-q00-pce.png", "000-q00-surface.png"]
    page = out.read_text()
    assert "cam-b" in page and "data:image/png;base64," in page and "threshold" in page
    assert str(a[0]) not in page
    res = runner.invoke(app, ["camera", "list", "--db", db, "--json"])
    assert [json.loads(x)["name"] for x in res.output.splitlines()] == ["cam-a", "cam-b"]


def write_video(path: Path, k: np.ndarray, seed: int, frames: int = 24) -> None:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height = SHAPE[1], SHAPE[0]
        stream.pix_fmt = "yuv444p"
        stream.options = {"crf": "4", "g": "2"}
        for i in range(frames):
            px = synthetic.expose(scene(seed + i, SHAPE), k, seed + i, 98)
            for packet in stream.encode(av.VideoFrame.from_ndarray(px, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_video_fingerprint_and_matching(tmp_path: Path, patterns: list[np.ndarray]) -> None:
    """Synthetic video (same sensor as some photos): image-to-video and video-to-video matching."""
    video = tmp_path / "clip.mp4"
    write_video(video, patterns[0], 700)
    other = tmp_path / "other.mp4"
    write_video(other, patterns[1], 800)
    assert len(video_frames(video)) >= 10
    engine, factory = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with transaction(factory) as s:
            row = service.enroll(s, "phone", [video], item_ref="phone-1")
            assert row.source == "video"
            cams = [registry.load(r) for r in registry.active(s)]
        photo = write_shots(tmp_path / "p", 900, 1, patterns[0])[0]
        assert service.match_file(photo, cams).camera == "phone"
        stranger = write_shots(tmp_path / "s", 950, 1, patterns[1])[0]
        assert service.match_file(stranger, cams).camera is None
        same = service.match_file(video, cams)
        assert same.camera == "phone" and STABILISATION_NOTE in same.notes
        attempt, notes = service.compare(video, other)
        assert attempt.pce < PCE_THRESHOLD and STABILISATION_NOTE in notes
    finally:
        engine.dispose()


def test_exif_make_model_serial_are_recorded(tmp_path: Path, patterns: list[np.ndarray]) -> None:
    paths = write_shots(tmp_path / "a", 30, 2, patterns[0])
    exif = Image.Exif()
    exif[0x010F] = "NIKON CORPORATION"
    exif[0x0110] = "NIKON D70"
    exif.get_ifd(0x8769)[0xA431] = "SN-0042"
    with Image.open(paths[0]) as im:
        im.save(paths[0], exif=exif, quality=95)
    engine, factory = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with transaction(factory) as s:
            row = service.enroll(s, "d70", paths, flat_field=True)
            assert (row.make, row.model, row.serial, row.source) == (
                "NIKON CORPORATION", "NIKON D70", "SN-0042", "flat-field",
            )
    finally:
        engine.dispose()
