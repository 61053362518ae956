"""`opspoor camera ...`: enrol cameras, attribute photos and videos, cluster unknown photos, report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from opspoor.cli.files import iter_files

camera_app = typer.Typer(
    help="Link photos and videos to cameras by sensor noise (PRNU).", no_args_is_help=True
)

DbOption = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: OPSPOOR_DATABASE_URL or local SQLite).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _loaded(db: str | None) -> list[Any]:
    from opspoor.camera import registry
    from opspoor.store.db import open_store, transaction

    _, factory = open_store(db)
    with transaction(factory) as session:
        rows = registry.active(session)
        return [registry.load(r) for r in rows]


@camera_app.command("enroll")
def enroll_command(
    name: Annotated[str, typer.Argument(help="Name of the camera (unique).")],
    paths: Annotated[list[Path], typer.Argument(help="Photos (same size) or one video.")],
    case: Annotated[str | None, typer.Option("--case", help="Case reference.")] = None,
    item: Annotated[str | None, typer.Option("--item", help="Seized-item reference.")] = None,
    flat: Annotated[bool, typer.Option("--flat", help="The photos are flat-field shots.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Estimate a camera's fingerprint and store it."""
    from opspoor.camera import registry, service
    from opspoor.errors import OpspoorError
    from opspoor.store.db import open_store, transaction

    files = list(iter_files(paths))
    _, factory = open_store(db)
    try:
        with transaction(factory) as session:
            row = service.enroll(session, name, files, flat_field=flat, case_ref=case, item_ref=item)
            info = registry.describe(row)
    except OpspoorError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(
        json.dumps(info)
        if as_json
        else f"enrolled {info['name']}: {info['width']}x{info['height']} from {info['media_count']} "
        f"{info['source']} item(s); make={info['make']} model={info['model']} serial={info['serial']}"
    )


@camera_app.command("list")
def list_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Enrolled cameras."""
    from opspoor.camera import registry
    from opspoor.store.camera import CameraDevice
    from opspoor.store.db import open_store, transaction

    _, factory = open_store(db)
    with transaction(factory) as session:
        rows = [registry.describe(r) for r in session.query(CameraDevice).order_by(CameraDevice.name)]
    for r in rows:
        typer.echo(
            json.dumps(r)
            if as_json
            else f"{r['name']}  {r['width']}x{r['height']}  {r['make']} {r['model']}  {r['state']}"
        )


@camera_app.command("match")
def match_command(
    paths: Annotated[list[Path], typer.Argument(help="Photos or videos to attribute.")],
    threshold: Annotated[float, typer.Option(help="PCE decision threshold (literature: 60).")] = 60.0,
    no_digest: Annotated[bool, typer.Option("--no-digest", help="Full PCE against every camera.")] = False,
    exact: Annotated[
        bool, typer.Option("--exact", help="Same size, zero shift only (no rotation/scale/crop search).")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Attribute each file to an enrolled camera (PCE against the threshold)."""
    from opspoor.camera import service
    from opspoor.camera.search import SearchPolicy
    from opspoor.errors import OpspoorError

    cameras = _loaded(db)
    if not cameras:
        raise _fail("no camera is enrolled")
    policy = SearchPolicy.exact() if exact else SearchPolicy()
    failed = 0
    for path in iter_files(paths):
        try:
            res = service.match_file(
                path, cameras, threshold=threshold, policy=policy, use_digests=not no_digest
            )
        except OpspoorError as exc:
            failed += 1
            record: dict[str, Any] = {
                "path": str(path),
                "camera": None,
                "pce": None,
                "decision": "error",
                "candidates": [],
                "error": str(exc),
            }
            typer.echo(json.dumps(record) if as_json else f"{path}: error: {exc}")
            continue
        if as_json:
            typer.echo(json.dumps(res.as_dict()))
        else:
            typer.echo(f"{res.path}: {res.decision} {res.camera or '-'} (PCE {res.pce:.1f})")
            for note in res.notes:
                typer.echo(f"  note: {note}")
    if failed:
        raise typer.Exit(1)


@camera_app.command("compare")
def compare_command(
    a: Annotated[Path, typer.Argument(help="Photo or video.")],
    b: Annotated[Path, typer.Argument(help="Photo or video.")],
    threshold: Annotated[float, typer.Option(help="PCE decision threshold.")] = 60.0,
    as_json: JsonOption = False,
) -> None:
    """Do two photos/videos come from the same camera? (residual against residual)"""
    from opspoor.camera import service
    from opspoor.errors import OpspoorError

    try:
        attempt, notes = service.compare(a, b)
    except OpspoorError as exc:
        raise _fail(str(exc)) from exc
    decision = "match" if attempt.pce >= threshold else "no-match"
    out = {
        "a": str(a),
        "b": str(b),
        "pce": round(attempt.pce, 2),
        "decision": decision,
        "rotation": attempt.rotation,
        "scale": attempt.scale,
        "offset": [attempt.dy, attempt.dx],
        "positions": attempt.positions,
        "notes": notes,
    }
    typer.echo(json.dumps(out) if as_json else f"{decision} (PCE {attempt.pce:.1f}, threshold {threshold:g})")


def cluster_vector_of(path: Path) -> tuple[Any, str | None]:
    """(clustering vector, None) for a readable photo, (None, message) otherwise (runs in a worker)."""
    from opspoor.camera.cluster import cluster_vector
    from opspoor.camera.media import load_photo
    from opspoor.camera.residual import query_residual
    from opspoor.errors import OpspoorError

    try:
        return cluster_vector(query_residual(load_photo(path).pixels)), None
    except OpspoorError as exc:
        return None, str(exc)


@camera_app.command("cluster")
def cluster_command(
    paths: Annotated[list[Path], typer.Argument(help="Photos to group by camera.")],
    workers: Annotated[int, typer.Option(help="Processes for residual extraction; 0 means all cores.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Group photos by the unknown camera that took them."""
    from opspoor.camera.cluster import cluster
    from opspoor.cli.parallel import map_with_progress

    candidates = list(iter_files(paths))
    files, vectors = [], []
    results = map_with_progress(cluster_vector_of, candidates, workers=workers or None, label="Residuals")
    for path, (vector, error) in zip(candidates, results, strict=True):
        if vector is None:
            typer.echo(f"{path}: skipped: {error}", err=True)
            continue
        files.append(path)
        vectors.append(vector)
    clusters = cluster(vectors)
    if as_json:
        out = [
            {"cluster": i, "members": [str(files[m]) for m in c.members], "confidence": c.confidence}
            for i, c in enumerate(clusters)
        ]
        typer.echo(json.dumps(out))
        return
    for i, c in enumerate(clusters):
        typer.echo(f"cluster {i}: {len(c.members)} photo(s)")
        for m, conf in zip(c.members, c.confidence, strict=True):
            typer.echo(f"  {files[m]}  (PCE vs rest {conf})")


@camera_app.command("report")
def report_command(
    paths: Annotated[list[Path], typer.Argument(help="Photos or videos to attribute.")],
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("camera-report.html"),
    case: Annotated[str | None, typer.Option("--case", help="Case reference shown in the report.")] = None,
    threshold: Annotated[float, typer.Option(help="PCE decision threshold.")] = 60.0,
    png_dir: Annotated[
        Path | None, typer.Option("--png-dir", help="Also write the figures as PNG files here.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Write an HTML report (PCE per candidate, correlation surface) for a case file."""
    from opspoor.camera import report, service
    from opspoor.camera.search import surface_around
    from opspoor.errors import OpspoorError

    cameras = {c.name: c for c in _loaded(db)}
    if not cameras:
        raise _fail("no camera is enrolled")
    results, surfaces = [], {}
    for path in iter_files(paths):
        try:
            query, notes = service.query_of(path)
        except OpspoorError as exc:
            typer.echo(f"{path}: skipped: {exc}", err=True)
            continue
        res = service.decide(str(path), service.rank(query, list(cameras.values())), threshold, notes)
        results.append(res)
        top = res.candidates[0] if res.candidates else None
        if top is not None and top.attempt is not None and top.attempt.tries:
            surfaces[res.path] = surface_around(query, cameras[top.camera].k, top.attempt)
    out.write_text(report.render(results, surfaces, case_ref=case), encoding="utf-8")
    typer.echo(f"wrote {out}")
    if png_dir is not None:
        for path in report.write_pngs(results, surfaces, png_dir):
            typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(camera_app, name="camera")
