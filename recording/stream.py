"""Serving a file from the archive over HTTP: whole, or one byte range (seekable ``<audio>``).

The file is read in chunks in a thread, so a slow disk never stalls the event loop (hence no
``sendfile``: a cold page read in the kernel would block the loop that also runs AMI and AGI).
A listener who goes away simply ends the copy: an ``<audio>`` element drops its request at every
seek, so that is routine, logged at debug level, never an error. The ETag is the recording's
checksum: a player that asks ``If-Range`` with it gets its range, with anything else the whole file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Final

from aiohttp import web

from hotline.logs import get_logger
from recording.ranges import ByteRange, RangeError, parse_range

log = get_logger(__name__)

CHUNK: Final = 256 * 1024


def _read(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read(size)


async def send_file(
    request: web.Request,
    path: Path,
    *,
    content_type: str,
    etag: str | None,
    download_name: str | None = None,
) -> web.StreamResponse:
    """Stream ``path`` honouring ``Range``; :class:`RangeError` for a range that cannot be served."""
    size = (await asyncio.to_thread(path.stat)).st_size
    header = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if header is not None and if_range is not None and etag is not None and if_range.strip() != f'"{etag}"':
        header = None  # the client's copy is not this file: it gets the whole file (RFC 9110 13.1.5)
    wanted: ByteRange | None = parse_range(header, size)
    response = web.StreamResponse(status=206 if wanted else 200)
    response.content_type = content_type
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if etag:
        response.headers["ETag"] = f'"{etag}"'
    disposition = "attachment" if download_name else "inline"
    response.headers["Content-Disposition"] = (
        f'{disposition}; filename="{download_name}"' if download_name else disposition
    )
    start, length = (wanted.start, wanted.length) if wanted else (0, size)
    if wanted:
        response.headers["Content-Range"] = wanted.content_range(size)
    response.content_length = length
    try:
        await response.prepare(request)
        if request.method == "HEAD":
            return response
        offset, left = start, length
        while left > 0:
            chunk = await asyncio.to_thread(_read, path, offset, min(CHUNK, left))
            if not chunk:
                break  # the file shrank under us (only possible if someone edits the archive by hand)
            await response.write(chunk)
            offset += len(chunk)
            left -= len(chunk)
        await response.write_eof()
    except ConnectionError:
        # The listener left (a seek, a closed tab); aiohttp closes the connection when we return.
        log.debug("listener went away", path=request.path, range=header or "")
    return response


__all__ = ["RangeError", "send_file"]
