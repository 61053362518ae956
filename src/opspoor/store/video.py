"""Video in the hash lists: the frames behind vpdq / vpdq_trim entries, and loading them to match.

A list entry of signal `vpdq` (or `vpdq_trim`) holds the video's vPDQ digest (SHA-256 of its
canonical text, see opspoor.signals.vpdq) as its value, grouped with the file's md5/sha1/sha256 by
`item_key`. The frames (1 fps, consecutive frames within 2 bits merged, with their time spans) are
rows of `video_frames` under (signal_type, digest): stored once however many lists hold the video,
and never deleted, so a disabled entry keeps its evidence. No frame image is stored, only hashes.

The schema is created by the hand-written Alembic revision `video_0001`; keep the two in step.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from opspoor.lists.rows import EntryRow, NewEntry
from opspoor.matching.video import ListVideo
from opspoor.signals.compute import FileSignals
from opspoor.signals.vpdq import (
    FRAME_MIN_QUALITY,
    VPDQ,
    VPDQ_TRIM,
    VpdqFeature,
    digest,
    merge_consecutive,
    parse_text,
    to_text,
)
from opspoor.store.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")
VIDEO_SIGNALS = (VPDQ, VPDQ_TRIM)
_CHUNK = 500  # digests per IN (...) query; well under SQLite's parameter limit


class VideoFrame(Base):
    __tablename__ = "video_frames"
    __table_args__ = (
        UniqueConstraint("signal_type", "digest", "position", name="uq_video_frames_signal_digest_position"),
        Index("ix_video_frames_signal_digest", "signal_type", "digest"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    signal_type: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)  # order within the video, from 0
    frame: Mapped[int] = mapped_column(Integer)
    quality: Mapped[int] = mapped_column(SmallInteger)
    pdq: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[float] = mapped_column(Float)
    end_timestamp: Mapped[float | None] = mapped_column(Float)


def _features(signals: FileSignals, signal: str) -> list[VpdqFeature] | None:
    """The frames of one video signal; None for vpdq_trim when no bars were cut (it would only
    repeat vpdq: the checker matches a trimmed query against the vpdq frames as well)."""
    text = signals.extra.get(signal)
    if signal == VPDQ_TRIM and text == signals.extra.get(VPDQ):
        return None
    return parse_text(text) if text else None


def _median_quality(features: Sequence[VpdqFeature]) -> int:
    qualities = sorted(f.quality for f in features)
    return qualities[len(qualities) // 2]


def video_entry_rows(
    signals: FileSignals, classification: str | None = None, source_ref: str | None = None
) -> list[NewEntry]:
    """The vpdq / vpdq_trim entries of a hashed video (an entry hook for opspoor.lists.media).

    The md5/sha rows come from `entries_for_media`; these rows name the frames saved by
    `save_video_frames`. A video with no frame of quality >= 50 gets no perceptual entry: it could
    never match under the reference rule."""
    rows: list[NewEntry] = []
    for signal in VIDEO_SIGNALS:
        features = _features(signals, signal)
        if not features or not any(f.quality >= FRAME_MIN_QUALITY for f in features):
            continue
        rows.append(
            NewEntry(
                signal,
                digest(features),
                classification,
                source_ref,
                signals.sha256,
                _median_quality(features),
            )
        )
    return rows


def save_frames(session: Session, signal: str, features: Sequence[VpdqFeature]) -> str:
    """Store a video's frames under the digest of their text (once: an existing digest is left as
    it is). Consecutive frames within 2 bits are merged first, keeping their time span."""
    key = digest(features)
    features = merge_consecutive(features)
    found = session.scalar(
        select(VideoFrame.id).where(VideoFrame.signal_type == signal, VideoFrame.digest == key).limit(1)
    )
    if found is None:
        session.add_all(
            VideoFrame(
                signal_type=signal,
                digest=key,
                position=i,
                frame=f.frame,
                quality=f.quality,
                pdq=f.pdq,
                timestamp=f.timestamp,
                end_timestamp=f.end,
            )
            for i, f in enumerate(features)
        )
        session.flush()
    return key


def save_video_frames(session: Session, signals: FileSignals) -> list[str]:
    """Store the frames of every video signal in `signals.extra`; returns their digests."""
    keys = []
    for signal in VIDEO_SIGNALS:
        features = _features(signals, signal)
        if features:
            keys.append(save_frames(session, signal, features))
    return keys


def add_video_to_list(
    session: Session,
    list_name: str,
    signals: FileSignals,
    *,
    classification: str | None = None,
    source_ref: str | None = None,
    actor: str | None = None,
) -> Any:
    """Add a hashed video to a list: md5/sha1/sha256 and vpdq/vpdq_trim entries plus the frames,
    in the caller's transaction. Returns the lists service's AddResult."""
    from opspoor.lists.service import add_entries

    rows = [
        NewEntry(name, value, classification, source_ref, signals.sha256)
        for name in ("md5", "sha1", "sha256")
        if (value := getattr(signals, name))
    ]
    rows.extend(video_entry_rows(signals, classification, source_ref))
    save_video_frames(session, signals)
    return add_entries(session, list_name, rows, actor=actor)


def load_frames(session: Session, signal: str, digests: Iterable[str]) -> dict[str, list[VpdqFeature]]:
    """Frames by digest, in position order; digests without frames are absent from the result."""
    wanted = sorted(set(digests))
    out: dict[str, list[VpdqFeature]] = {}
    for start in range(0, len(wanted), _CHUNK):
        stmt = (
            select(
                VideoFrame.digest,
                VideoFrame.frame,
                VideoFrame.quality,
                VideoFrame.pdq,
                VideoFrame.timestamp,
                VideoFrame.end_timestamp,
            )
            .where(VideoFrame.signal_type == signal, VideoFrame.digest.in_(wanted[start : start + _CHUNK]))
            .order_by(VideoFrame.digest, VideoFrame.position)
        )
        for key, frame, quality, pdq, stamp, end in session.execute(stmt):
            out.setdefault(key, []).append(VpdqFeature(frame, quality, pdq, stamp, end))
    return out


def load_list_videos(
    session: Session, list_names: Sequence[str] | None = None
) -> tuple[dict[str, list[ListVideo]], list[str]]:
    """Active video entries of enabled lists with their frames, per signal (vpdq, vpdq_trim), and
    notes about entries whose frames are missing (listed from a digest alone: they cannot match)."""
    from opspoor.lists.service import active_entries

    return load_list_videos_for(session, active_entries(session, list_names))


def load_list_videos_for(
    session: Session, entries: Iterable[EntryRow]
) -> tuple[dict[str, list[ListVideo]], list[str]]:
    """The given entries' videos with their frames (see load_list_videos); other signals are skipped."""
    mine = [e for e in entries if e.signal_type in VIDEO_SIGNALS]
    videos: dict[str, list[ListVideo]] = {signal: [] for signal in VIDEO_SIGNALS}
    notes: list[str] = []
    for signal in VIDEO_SIGNALS:
        group = [e for e in mine if e.signal_type == signal]
        frames = load_frames(session, signal, (e.value for e in group))
        for e in group:
            if e.value not in frames:
                notes.append(f"{signal} entry {e.entry_id} in list {e.list_name!r} has no frames stored")
                continue
            videos[signal].append(
                ListVideo(
                    key=e.value,
                    features=frames[e.value],
                    signal=signal,
                    entry_id=e.entry_id,
                    list_name=e.list_name,
                    classification=e.classification,
                    source_ref=e.source_ref,
                    item_key=e.item_key,
                )
            )
    return videos, notes


def frames_text(session: Session, signal: str, key: str) -> str:
    """A listed video's frames in the reference's text form (for export, or Meta's tools), as
    stored: frames within 2 bits of the previous kept frame are pruned (vpdq README)."""
    frames = load_frames(session, signal, [key]).get(key)
    if frames is None:
        raise LookupError(f"no {signal} frames stored under {key}")
    return to_text(frames)


def import_vpdq_text(
    session: Session,
    list_name: str,
    text: str,
    *,
    signal: str = VPDQ,
    classification: str | None = None,
    source_ref: str | None = None,
    item_key: str | None = None,
) -> str:
    """List a video given as vPDQ text (e.g. from Meta's vpdq-hash-video or a partner): its frames
    are stored and one entry added. Returns the digest (the entry's value). InvalidSignalValue
    names a bad line."""
    from opspoor.lists.service import add_entries

    features = parse_text(text)
    key = save_frames(session, signal, features)
    quality = _median_quality(features)
    add_entries(session, list_name, [NewEntry(signal, key, classification, source_ref, item_key, quality)])
    return key
