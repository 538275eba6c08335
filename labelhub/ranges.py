"""HTTP Range requests (one byte range, RFC 9110 section 14) for files served by Django.

Browsers seek in audio and video only when the server answers ``Range`` with 206: without
it Chromium marks the media as not seekable, and the editor's frame steps, keyframes and
timeline clicks do nothing. Django's ``FileResponse`` always sends the whole file, so the
views that serve media (uploads, and the browser tests' media) answer through here.
Multi-range requests get the whole file (200), which the RFC allows.
"""

import re

from django.http import FileResponse, HttpResponse, StreamingHttpResponse

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


def _span(header: str, size: int) -> tuple[int, int] | None | bool:
    """``(first, last)`` byte positions, ``None`` to send the whole file, ``False`` when
    the range cannot be satisfied."""
    match = _RANGE.match(header.strip())
    if not match or not (match.group(1) or match.group(2)):
        return None
    first, last = match.group(1), match.group(2)
    if first == "":  # the last N bytes
        length = int(last)
        if length == 0:
            return False
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return False
    return start, end


def _read(fileobj, start: int, end: int):
    fileobj.seek(start)
    left = end - start + 1
    try:
        while left > 0:
            block = fileobj.read(min(CHUNK, left))
            if not block:
                break
            left -= len(block)
            yield block
    finally:
        fileobj.close()


def ranged_file_response(request, fileobj, *, size: int, content_type: str):
    """A 200 with the whole file, or a 206 with the requested byte range, or a 416."""
    header = request.headers.get("Range", "")
    span = _span(header, size) if header else None
    if span is False:
        fileobj.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    elif span is None:
        response = FileResponse(fileobj, content_type=content_type)
    else:
        start, end = span
        response = StreamingHttpResponse(
            _read(fileobj, start, end), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    return response
