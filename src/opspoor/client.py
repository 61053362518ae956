"""A Python client for the opspoor hash-check service (httpx).

    with Client("https://hashcheck.example", key) as client:
        result = client.check_hashes([("md5", "..."), ("pdq", "...")])

`check_hashes` is the privacy-preserving call: only hashes leave the caller. Every call returns the
service's pydantic model (with `request_id`); errors raise ServiceError with status, code, message
and request id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from opspoor.api.models import (
    AddedOut,
    CheckFileOut,
    CheckHashesOut,
    CheckUrlOut,
    EntryStateOut,
    Health,
    ImportOut,
    ListOut,
    ListsOut,
    Ready,
    SharesOut,
)
from opspoor.errors import OpspoorError

M = TypeVar("M", bound=BaseModel)


class ServiceError(OpspoorError):
    def __init__(self, status: int, code: str, message: str, request_id: str | None) -> None:
        super().__init__(f"HTTP {status} {code}: {message} (request {request_id or '-'})")
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id


class Client:
    def __init__(
        self,
        url: str,
        key: str | None,
        *,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._http = httpx.Client(
            base_url=url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- plumbing -----------------------------------------------------------------------------
    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServiceError(0, "unreachable", f"{type(exc).__name__}: {exc}", None) from exc
        if response.status_code >= 400:
            try:
                body = response.json()
                code, message = body.get("error", "error"), body.get("message", response.text)
            except ValueError:
                code, message = "error", response.text[:500]
            raise ServiceError(response.status_code, code, message, response.headers.get("x-request-id"))
        return response

    def _call(self, model: type[M], method: str, path: str, **kwargs: Any) -> M:
        return model.model_validate_json(self._send(method, path, **kwargs).content)

    # -- checks -------------------------------------------------------------------------------
    def check_hashes(
        self, hashes: Iterable[tuple[str, str] | Mapping[str, Any]], threshold: int | None = None
    ) -> CheckHashesOut:
        """Hashes as (signal, value) pairs or dicts with signal, value and optional threshold, quality."""
        items = [dict(h) if isinstance(h, Mapping) else {"signal": h[0], "value": h[1]} for h in hashes]
        body: dict[str, Any] = {"hashes": items}
        if threshold is not None:
            body["threshold"] = threshold
        return self._call(CheckHashesOut, "POST", "/v1/check/hashes", json=body)

    def check_file(self, file: Path | str | bytes, threshold: int | None = None) -> CheckFileOut:
        """Send a file's bytes (hashed in memory on the server). Prefer check_hashes where possible."""
        data = file if isinstance(file, bytes) else Path(file).read_bytes()
        params = {"threshold": threshold} if threshold is not None else None
        return self._call(
            CheckFileOut,
            "POST",
            "/v1/check/file",
            content=data,
            params=params,
            headers={"Content-Type": "application/octet-stream"},
        )

    def check_url(self, url: str, threshold: int | None = None) -> CheckUrlOut:
        body: dict[str, Any] = {"url": url}
        if threshold is not None:
            body["threshold"] = threshold
        return self._call(CheckUrlOut, "POST", "/v1/check/url", json=body)

    # -- lists --------------------------------------------------------------------------------
    def lists(self) -> ListsOut:
        return self._call(ListsOut, "GET", "/v1/lists")

    def get_list(self, name: str) -> ListOut:
        return self._call(ListOut, "GET", f"/v1/lists/{name}")

    def create_list(self, name: str, **metadata: str) -> ListOut:
        return self._call(ListOut, "POST", "/v1/lists", json={"name": name, **metadata})

    def add_entries(
        self, name: str, entries: Sequence[Mapping[str, Any]], reason: str | None = None
    ) -> AddedOut:
        body: dict[str, Any] = {"entries": [dict(e) for e in entries]}
        if reason:
            body["reason"] = reason
        return self._call(AddedOut, "POST", f"/v1/lists/{name}/entries", json=body)

    def import_file(
        self, name: str, data: bytes | str, fmt: str = "csv", signal: str | None = None
    ) -> ImportOut:
        params = {"format": fmt, **({"signal": signal} if signal else {})}
        content = data.encode() if isinstance(data, str) else data
        return self._call(
            ImportOut,
            "POST",
            f"/v1/lists/{name}/import",
            params=params,
            content=content,
            headers={"Content-Type": "text/plain; charset=utf-8"},
        )

    def disable(self, name: str, value: str, reason: str, signal: str | None = None) -> EntryStateOut:
        body = {"value": value, "reason": reason, **({"signal": signal} if signal else {})}
        return self._call(EntryStateOut, "POST", f"/v1/lists/{name}/disable", json=body)

    def export(self, name: str, fmt: str = "csv", include_all: bool = False) -> str:
        params = {"format": fmt, "include_all": str(include_all).lower()}
        return self._send("GET", f"/v1/lists/{name}/export", params=params).text

    def share(self, name: str, tenant: str) -> SharesOut:
        return self._call(SharesOut, "POST", f"/v1/lists/{name}/shares", json={"tenant": tenant})

    # -- service ------------------------------------------------------------------------------
    def health(self) -> Health:
        return self._call(Health, "GET", "/v1/health")

    def ready(self) -> Ready:
        return self._call(Ready, "GET", "/v1/ready")
