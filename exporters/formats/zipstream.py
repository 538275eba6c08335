"""A ZIP archive written as it goes: ``zipfile`` on a sink that hands each written block
back to the caller, so an archive of any size streams with flat memory.

``zipfile`` writes to a stream without ``seek`` by putting each member's sizes and CRC
in a data descriptor after its bytes, which every unzip tool reads. Callers write a
member, then ``drain()`` what the sink holds and yield it to the response or the file.
"""

import zipfile
from collections.abc import Iterator


class _Sink:
    """Write-only, unseekable: collects what zipfile writes until drained."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._offset = 0
        self.pending = 0

    def write(self, data) -> int:
        data = bytes(data)
        self._parts.append(data)
        self._offset += len(data)
        self.pending += len(data)
        return len(data)

    def tell(self) -> int:
        # zipfile records member offsets from tell(); an unseekable sink still knows
        # how much it has written.
        return self._offset

    def flush(self) -> None:
        pass

    def seekable(self) -> bool:
        return False

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        self.pending = 0
        return out


class ZipStream:
    """``with ZipStream() as z: z.write(name, data); yield z.drain() ...; yield z.close()``."""

    # Buffer a member's bytes up to this size before handing them on: fewer, larger
    # blocks for the response without holding a whole member in memory.
    CHUNK = 256 * 1024

    def __init__(self, compression: int = zipfile.ZIP_DEFLATED) -> None:
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(self._sink, mode="w", compression=compression)

    def write(self, name: str, data: bytes) -> None:
        """One member from bytes already in memory (a label file, an image)."""
        with self._zip.open(name, mode="w", force_zip64=len(data) > 2**31) as member:
            member.write(data)

    def write_iter(self, name: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
        """One member from a stream of chunks; yields archive bytes as they are ready."""
        with self._zip.open(name, mode="w", force_zip64=True) as member:
            for chunk in chunks:
                member.write(chunk)
                if self._sink.pending >= self.CHUNK:
                    yield self._sink.take()
        yield self._sink.take()

    def drain(self) -> bytes:
        return self._sink.take()

    def close(self) -> bytes:
        self._zip.close()
        return self._sink.take()
