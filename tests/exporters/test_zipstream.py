"""exporters.formats.zipstream writes the ZIP records itself: archives that zipfile (and
so every unzip tool that follows APPNOTE) reads back member for member."""

import io
import zipfile

from exporters.formats.zipstream import ZipStream


def _read(body: bytes) -> dict[str, tuple[int, bytes]]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
        return {i.filename: (i.compress_type, archive.read(i)) for i in archive.infolist()}


def test_members_in_memory_and_streamed_read_back():
    archive = ZipStream()
    out = []
    archive.write("labels/a.txt", b"0 0.5 0.5 0.1 0.1\n")  # small: stored
    archive.write("notes.json", b'{"k": "v"}' * 200)  # deflated
    archive.write("images/x.jpg", bytes(range(256)) * 8)  # already compressed media: stored
    archive.write("naïve/日本.txt", b"")
    out.append(archive.drain())
    big = [bytes([i]) * 100_000 for i in range(5)]
    out.extend(archive.write_iter("result.json", iter(big)))
    out.append(archive.close())
    members = _read(b"".join(out))
    assert members == {
        "labels/a.txt": (zipfile.ZIP_STORED, b"0 0.5 0.5 0.1 0.1\n"),
        "notes.json": (zipfile.ZIP_DEFLATED, b'{"k": "v"}' * 200),
        "images/x.jpg": (zipfile.ZIP_STORED, bytes(range(256)) * 8),
        "naïve/日本.txt": (zipfile.ZIP_STORED, b""),
        "result.json": (zipfile.ZIP_DEFLATED, b"".join(big)),
    }


def test_more_members_than_the_classic_end_record_counts():
    """Past 65,535 members the archive ends with the ZIP64 end records."""
    archive = ZipStream()
    out = []
    for i in range(70_000):
        archive.write(f"labels/{i}.txt", f"{i}\n".encode())
        if archive.full:
            out.append(archive.drain())
    out.append(archive.close())
    body = b"".join(out)
    assert b"PK\x06\x06" in body[-200:]
    with zipfile.ZipFile(io.BytesIO(body)) as read:
        names = read.namelist()
        assert len(names) == 70_000
        assert read.read("labels/69999.txt") == b"69999\n"
