"""Small parts of the service, without a server: token bucket, in-memory multipart, settings, keys."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opspoor.api.errors import Unprocessable
from opspoor.api.keys import hash_key, parse_key_id
from opspoor.api.settings import Settings
from opspoor.api.state import RateLimiter
from opspoor.api.upload import _file_from_multipart
from opspoor.audit.chain import _canonical_details


@given(
    rate=st.floats(min_value=0.5, max_value=1000),
    burst=st.integers(min_value=1, max_value=100),
    gaps=st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=300),
)
def test_token_bucket_never_allows_more_than_burst_plus_rate(
    rate: float, burst: int, gaps: list[float]
) -> None:
    limiter = RateLimiter(rate, burst)
    now, allowed = 0.0, 0
    for gap in gaps:
        now += gap
        wait = limiter.take("k", now)
        if wait == 0:
            allowed += 1
        else:
            assert wait > 0
    assert allowed <= burst + rate * now + 1e-6


def test_token_bucket_retry_after_is_when_a_token_is_back() -> None:
    limiter = RateLimiter(rate=2.0, burst=1)
    assert limiter.take("k", 0.0) == 0
    wait = limiter.take("k", 0.0)
    assert wait == pytest.approx(0.5)
    assert limiter.take("k", 0.5) == 0
    assert limiter.take("other", 0.5) == 0  # per key


def _multipart(parts: list[tuple[str, bytes, str | None]], boundary: str = "b0undary") -> bytes:
    out = b""
    for name, data, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def test_multipart_in_memory_picks_the_file_field() -> None:
    body = _multipart([("note", b"hello", None), ("file", b"\xff\xd8 image \r\n--not-a-boundary", "a.jpg")])
    assert _file_from_multipart(body, b"b0undary") == b"\xff\xd8 image \r\n--not-a-boundary"
    other = _multipart([("upload", b"data", "x.bin")])
    assert _file_from_multipart(other, b"b0undary") == b"data"  # else the first part with a filename
    with pytest.raises(Unprocessable, match="no part named"):
        _file_from_multipart(_multipart([("note", b"x", None)]), b"b0undary")


@settings(max_examples=200)
@given(st.binary(max_size=400))
def test_multipart_garbage_is_a_clear_error_or_a_file(body: bytes) -> None:
    try:
        result = _file_from_multipart(body, b"b0undary")
    except Unprocessable:
        return
    assert isinstance(result, bytes)


def test_settings_round_trip_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    wanted = Settings(db_url="sqlite:///x.db", rate_per_second=12.5, rate_burst=7, metrics_public=True)
    for name, value in wanted.to_env().items():
        monkeypatch.setenv(name, value)
    assert Settings.from_env() == wanted
    assert Settings.from_env(rate_burst=9).rate_burst == 9


@given(st.text(max_size=60))
def test_only_well_formed_keys_have_an_id(text: str) -> None:
    key_id = parse_key_id(text)
    assert key_id is None or (text.startswith(f"ops_{key_id}_") and len(key_id) == 8)
    assert len(hash_key(text)) == 64


@given(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=6))
def test_audit_details_are_canonical(details: dict[str, object]) -> None:
    reordered = dict(reversed(list(details.items())))
    assert _canonical_details(details) == _canonical_details(reordered)
