"""Request and response bodies of the /v1 API. Distances are numbers; every response has a request id."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

VerdictName = Literal["known", "near", "unknown"]
# The longest canonical value any signal type has (opspoor.store.lists.VALUE_MAX).
VALUE_MAX = 512
SIGNAL_MAX = 32


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    location: str
    message: str


class ErrorBody(BaseModel):
    error: str = Field(description="Short machine-readable code, e.g. invalid_input, rate_limited.")
    message: str = Field(description="What went wrong, for a person.")
    details: list[ErrorDetail] = Field(default_factory=list)
    request_id: str


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str


class Ready(BaseModel):
    status: Literal["ready"] = "ready"
    entries_indexed: int
    index_age_seconds: float = Field(description="Seconds since the index last applied list changes.")
    request_id: str


# -- matching ------------------------------------------------------------------------------------
class MatchOut(BaseModel):
    """One list entry the query matched, with the evidence an analyst needs to judge it."""

    list: str
    classification: str | None
    signal: str
    value: str | None = Field(
        description="The list entry's hash: for exact signals the query itself; for perceptual ones only "
        "to roles that may export lists (analyst, curator, admin)."
    )
    distance: int = Field(description="0 for exact signals; Hamming distance (bits) for PDQ.")
    quality: int | None = Field(description="Quality of the queried hash where the signal has one.")
    entry_id: int
    source_ref: str | None = None
    variant: str | None = Field(None, description="Dihedral variant of the query that matched.")


class HashQuery(Strict):
    signal: str = Field(min_length=1, max_length=SIGNAL_MAX, examples=["pdq", "md5", "sha256"])
    value: str = Field(min_length=1, max_length=VALUE_MAX)
    threshold: int | None = Field(
        None, ge=0, le=64, description="Match distance for this query (PDQ default 31, Meta's README)."
    )
    quality: int | None = Field(None, ge=0, le=100, description="PDQ quality of the hash, if known.")


class CheckHashesIn(Strict):
    hashes: list[HashQuery] = Field(min_length=1, description="Up to max_batch (default 1000) hashes.")
    threshold: int | None = Field(None, ge=0, le=64, description="Default for queries without one.")


class HashResult(BaseModel):
    signal: str
    value: str
    verdict: VerdictName
    matches: list[MatchOut]
    notes: list[str] = Field(default_factory=list)


class CheckHashesOut(BaseModel):
    results: list[HashResult]
    request_id: str


class FileHashes(BaseModel):
    md5: str | None
    sha1: str | None
    sha256: str | None
    pdq: str | None
    pdq_quality: int | None
    kind: str
    width: int | None
    height: int | None
    format: str | None


class CheckFileOut(BaseModel):
    verdict: VerdictName
    matches: list[MatchOut]
    notes: list[str]
    hashes: FileHashes
    error: str | None = Field(
        None, description="Why the file could not be decoded (crypto hashes still set)."
    )
    request_id: str


class CheckUrlIn(Strict):
    url: str = Field(min_length=1, max_length=4096)
    threshold: int | None = Field(None, ge=0, le=64)


class CheckUrlOut(CheckFileOut):
    url: str
    final_url: str
    status: int
    content_type: str | None


# -- lists ---------------------------------------------------------------------------------------
class ListIn(Strict):
    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")
    description: str | None = Field(None, max_length=4000)
    source: str | None = Field(None, max_length=4000)
    supplier: str | None = Field(None, max_length=200)
    terms: str | None = Field(None, max_length=4000)


class ListOut(BaseModel):
    name: str
    description: str | None
    source: str | None
    supplier: str | None
    terms: str | None
    enabled: bool
    owned: bool = Field(description="True if the caller's tenant owns the list; else it is shared to it.")
    shared_with: list[str] | None = Field(None, description="Tenants it is shared to (owners only).")
    created_at: datetime
    request_id: str


class ListsOut(BaseModel):
    lists: list[ListOut]
    request_id: str


class EntryIn(Strict):
    signal: str = Field(min_length=1, max_length=SIGNAL_MAX)
    value: str = Field(min_length=1, max_length=VALUE_MAX)
    classification: str | None = Field(None, max_length=64)
    source_ref: str | None = Field(None, max_length=512)
    item_key: str | None = Field(None, max_length=128)
    quality: int | None = Field(None, ge=0, le=100)


class EntriesIn(Strict):
    entries: list[EntryIn] = Field(min_length=1, max_length=10_000)
    reason: str | None = Field(None, max_length=2000)


class AddedOut(BaseModel):
    added: int
    existing: int
    duplicates: int
    request_id: str


class DisableIn(Strict):
    value: str = Field(min_length=1, max_length=VALUE_MAX)
    signal: str | None = Field(None, max_length=SIGNAL_MAX)
    reason: str = Field(min_length=3, max_length=2000, description="Why (kept in the entry's history).")


class EntryStateOut(BaseModel):
    list: str
    signal: str
    value: str
    state: str
    reason: str | None
    request_id: str


class ShareIn(Strict):
    tenant: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class SharesOut(BaseModel):
    list: str
    shared_with: list[str]
    request_id: str


# -- audit ---------------------------------------------------------------------------------------
class AuditEntryOut(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    details: dict[str, object]
    row_hash: str


class AuditOut(BaseModel):
    entries: list[AuditEntryOut]
    request_id: str


class AuditVerifyOut(BaseModel):
    ok: bool
    rows: int
    problem: str | None = None
    broken_row: int | None = None
    head_hash: str
    request_id: str


class ImportOut(BaseModel):
    rows: int
    added: int
    existing: int
    duplicates: int
    skipped: dict[str, int]
    request_id: str
