"""A ZIP archive written as it goes, so an archive of any size streams with flat memory.

Callers write members and, once ``full``, ``drain()`` what is ready and yield it to the
response or the file (one block per member made the response 100k tiny blocks for a
YOLO export); ``close()`` gives the rest, the central directory and the end records.

The records are the ones ``zipfile`` writes to an unseekable stream (APPNOTE 6.3: local
header, data, ZIP64 end records past 65,535 members or 4 GiB), written here with a few
``struct.pack`` calls per member: on a YOLO export, one small label file per task,
``zipfile`` spent more time in its per-member machinery (``ZipInfo``, the write handle,
its data descriptor) than the export spent on anything else, and kept a ``ZipInfo`` of
~1 KB per member for the central directory (peak RSS 330 MB for 100k tasks). A member
whose bytes are in memory (``write``) gets its CRC and sizes in the local header, and is
deflated unless it is small or already compressed media (then stored); a streamed one
(``write_iter``) is deflated and gets a ZIP64 data descriptor after its data, as
``zipfile`` writes it. The central directory entries (~80 bytes each) are spooled to a
temporary file past 1 MB.

Member names are made safe here, whatever the writer passes: backslashes count as
folder separators, control characters (NUL, CR, LF...) go, and empty, ``.`` and ``..``
parts are dropped, so no member can name a place outside the folder it is unpacked in;
a name already in the archive gets ``-2``, ``-3``... before its extension. ``write``
returns the name it used. Only each name's hash is kept for the uniqueness check (8
bytes a member, not the name: a YOLO export of 1M tasks has 1M members).
"""

import posixpath
import struct
import tempfile
import time
import zlib
from collections.abc import Iterator

_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_DESCRIPTOR64 = struct.Struct("<4sL2Q")
_END64 = struct.Struct("<4sQ2H2L4Q")
_LOCATOR64 = struct.Struct("<4sLQL")
_END = struct.Struct("<4s4H2LH")
_ZIP64_EXTRA = 0x0001
_LIMIT = 0xFFFFFFFF
_COUNT_LIMIT = 0xFFFF
_DATA_DESCRIPTOR = 0x08
_UTF8 = 0x800
_STORED = 0
_DEFLATED = 8
# Media that deflate can't shrink: stored, as deflating them only costs time.
_COMPRESSED = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".mp3", ".mp4", ".ogg", ".zip", ".gz")
_VERSION = 20  # deflate
_VERSION64 = 45  # ZIP64
_MADE_BY = 3 << 8  # Unix, so the external attributes below are read as a mode
_MODE = 0o600 << 16  # ?rw-------, as zipfile gives members written through open()
# zlib's default level, as zipfile.ZIP_DEFLATED uses.
_LEVEL = zlib.Z_DEFAULT_COMPRESSION


def _dos_time(now: float) -> tuple[int, int]:
    t = time.localtime(now)
    return (
        (t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2),
        ((t.tm_year - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday,
    )


class ZipStream:
    """``z = ZipStream(); z.write(name, data); if z.full: yield z.drain() ...; yield z.close()``."""

    # Hand streamed bytes on once this much is ready: fewer, larger blocks for the
    # response without holding a whole member in memory.
    CHUNK = 256 * 1024
    # Members smaller than this are stored, not deflated: setting up a deflate stream
    # costs more than the few bytes it saves on a label file (a YOLO export of 100k
    # tasks spent 0.7 s in zlib.compress for ~80-byte members).
    STORE_BELOW = 1024
    # Central directory entries kept in memory before they spill to a temporary file.
    DIRECTORY_IN_MEMORY = 1024 * 1024

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._pending = 0
        self._offset = 0
        self._count = 0
        self._directory = tempfile.SpooledTemporaryFile(max_size=self.DIRECTORY_IN_MEMORY)
        self._time, self._date = _dos_time(time.time())
        self._used: set[int] = set()

    def safe_name(self, name: str) -> str:
        """``name`` as a safe relative path, unique within this archive (recorded)."""
        parts = []
        for part in name.replace("\\", "/").split("/"):
            part = "".join(c for c in part if c.isprintable()).strip()
            if part not in ("", ".", ".."):
                parts.append(part)
        name = "/".join(parts) or "file"
        if hash(name) in self._used:
            stem, ext = posixpath.splitext(name)
            n = 2
            while hash(f"{stem}-{n}{ext}") in self._used:
                n += 1
            name = f"{stem}-{n}{ext}"
        self._used.add(hash(name))
        return name

    def _out(self, data: bytes) -> None:
        self._parts.append(data)
        self._pending += len(data)
        self._offset += len(data)

    def _entry(
        self, name: bytes, flags: int, method: int, crc: int, size: int, packed: int, offset: int
    ) -> None:
        """One central directory entry, with a ZIP64 extra for what passes 4 GiB."""
        extra = []
        if size >= _LIMIT:
            extra.append(size)
        if packed >= _LIMIT:
            extra.append(packed)
        if offset >= _LIMIT:
            extra.append(offset)
        extra_bytes = (
            struct.pack(f"<2H{len(extra)}Q", _ZIP64_EXTRA, 8 * len(extra), *extra) if extra else b""
        )
        version = _VERSION64 if extra or flags & _DATA_DESCRIPTOR else _VERSION
        self._directory.write(
            _CENTRAL.pack(
                b"PK\x01\x02",
                _MADE_BY | version,
                version,
                flags,
                method,
                self._time,
                self._date,
                crc,
                min(packed, _LIMIT),
                min(size, _LIMIT),
                len(name),
                len(extra_bytes),
                0,
                0,
                0,
                _MODE,
                min(offset, _LIMIT),
            )
            + name
            + extra_bytes
        )
        self._count += 1

    @staticmethod
    def _name(name: str) -> tuple[bytes, int]:
        try:
            return name.encode("ascii"), 0
        except UnicodeEncodeError:
            return name.encode("utf-8"), _UTF8

    def write(self, name: str, data: bytes, *, named: bool = False) -> str:
        """One member from bytes already in memory (a label file, an image); returns
        the member's name as written (``safe_name``; ``named``: ``name`` already came
        from ``safe_name``, for a writer that had to cite it before writing)."""
        name = name if named else self.safe_name(name)
        if len(data) >= _LIMIT:  # a member past 4 GiB streams with ZIP64 sizes
            for chunk in self._stream(name, iter((data,))):
                self._parts.append(chunk)
                self._pending += len(chunk)
            return name
        encoded, flags = self._name(name)
        stored = len(data) < self.STORE_BELOW or name.lower().endswith(_COMPRESSED)
        packed = data if stored else zlib.compress(data, _LEVEL, -15)
        method = _STORED if stored else _DEFLATED
        crc = zlib.crc32(data)
        offset = self._offset
        self._out(
            _LOCAL.pack(
                b"PK\x03\x04",
                _VERSION,
                flags,
                method,
                self._time,
                self._date,
                crc,
                len(packed),
                len(data),
                len(encoded),
                0,
            )
            + encoded
            + packed
        )
        self._entry(encoded, flags, method, crc, len(data), len(packed), offset)
        return name

    def write_iter(self, name: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
        """One member from a stream of chunks; yields archive bytes as they are ready."""
        return self._stream(self.safe_name(name), chunks)

    def _stream(self, name: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
        encoded, flags = self._name(name)
        flags |= _DATA_DESCRIPTOR
        offset = self._offset
        extra = struct.pack("<2H2Q", _ZIP64_EXTRA, 16, 0, 0)
        self._out(
            _LOCAL.pack(
                b"PK\x03\x04",
                _VERSION64,
                flags,
                _DEFLATED,
                self._time,
                self._date,
                0,
                _LIMIT,
                _LIMIT,
                len(encoded),
                len(extra),
            )
            + encoded
            + extra
        )
        compressor = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15)
        crc = size = packed = 0
        for chunk in chunks:
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            out = compressor.compress(chunk)
            if out:
                packed += len(out)
                self._out(out)
            if self._pending >= self.CHUNK:
                yield self.drain()
        out = compressor.flush()
        packed += len(out)
        self._out(out)
        self._out(_DESCRIPTOR64.pack(b"PK\x07\x08", crc, packed, size))
        self._entry(encoded, flags, _DEFLATED, crc, size, packed, offset)
        yield self.drain()

    @property
    def full(self) -> bool:
        """Enough is ready to be worth a block of the response (``CHUNK``)."""
        return self._pending >= self.CHUNK

    def drain(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        self._pending = 0
        return out

    def close(self) -> bytes:
        """The central directory and the end records; the archive's last bytes."""
        start = self._offset
        self._directory.seek(0)
        while block := self._directory.read(self.CHUNK):
            self._out(block)
        self._directory.close()
        size = self._offset - start
        if self._count >= _COUNT_LIMIT or start >= _LIMIT or size >= _LIMIT:
            end64 = self._offset
            self._out(
                _END64.pack(
                    b"PK\x06\x06",
                    _END64.size - 12,
                    _MADE_BY | _VERSION64,
                    _VERSION64,
                    0,
                    0,
                    self._count,
                    self._count,
                    size,
                    start,
                )
            )
            self._out(_LOCATOR64.pack(b"PK\x06\x07", 0, end64, 1))
        self._out(
            _END.pack(
                b"PK\x05\x06",
                0,
                0,
                min(self._count, _COUNT_LIMIT),
                min(self._count, _COUNT_LIMIT),
                min(size, _LIMIT),
                min(start, _LIMIT),
                0,
            )
        )
        return self.drain()
