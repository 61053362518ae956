"""Read an uploaded file into memory, never onto disk.

Starlette's form parser spools uploads above 1 MiB to a temporary file; a file sent for checking
must never touch the disk, so the body is read here with the size cap and multipart/form-data is
parsed in memory with python-multipart's streaming parser.
"""

from __future__ import annotations

from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from opspoor.api.errors import Unprocessable
from opspoor.api.middleware import BodyTooLargeHTTP

FILE_FIELD = "file"


async def read_body(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeHTTP(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _file_from_multipart(body: bytes, boundary: bytes) -> bytes:
    """The part named `file` (or else the first part with a filename)."""
    parts: list[tuple[dict[bytes, bytes], bytearray]] = []
    header_field = bytearray()
    header_value = bytearray()

    def on_part_begin() -> None:
        parts.append(({}, bytearray()))

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        parts[-1][0][bytes(header_field).lower()] = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1][1].extend(data[start:end])

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except (FormParserError, ValueError) as exc:
        raise Unprocessable(f"malformed multipart body: {exc}") from None
    fallback: bytes | None = None
    for headers, data in parts:
        _, options = parse_options_header(headers.get(b"content-disposition", b""))
        if options.get(b"name") == FILE_FIELD.encode():
            return bytes(data)
        if fallback is None and b"filename" in options:
            fallback = bytes(data)
    if fallback is None:
        raise Unprocessable(f"the multipart body has no part named {FILE_FIELD!r}")
    return fallback


async def read_upload(request: Request, limit: int) -> bytes:
    """The file's bytes: from a multipart field `file`, or the raw body for any other type."""
    body = await read_body(request, limit)
    ctype, options = parse_options_header(request.headers.get("content-type"))
    if ctype == b"multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise Unprocessable("multipart/form-data without a boundary")
        body = _file_from_multipart(body, boundary)
    if not body:
        raise Unprocessable("the file is empty")
    return body
