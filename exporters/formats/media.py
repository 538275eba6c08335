"""BRUSH_TO_PNG, BRUSH_TO_NUMPY and ASR_MANIFEST: ZIP archives of masks and of an audio
manifest."""

import io
import tempfile
import wave
from collections import defaultdict
from collections.abc import Iterator

import numpy as np
import orjson
from PIL import Image

from exporters.formats import data_keys
from exporters.formats.context import WriterContext
from exporters.formats.items import task_items
from exporters.formats.resources import basename_of, read_media
from exporters.formats.zipstream import ZipStream


class _Bits:
    """Reads big-endian bit fields from bytes (the editor's RLE, thi-ng rle-pack)."""

    def __init__(self, data: bytes) -> None:
        self.bits = np.unpackbits(np.frombuffer(bytes(data), dtype=np.uint8))
        self.pos = 0

    def read(self, size: int) -> int:
        chunk = self.bits[self.pos : self.pos + size]
        self.pos += size
        value = 0
        for bit in chunk:
            value = (value << 1) | int(bit)
        return value


def decode_rle(rle: list[int]) -> np.ndarray:
    """Label Studio's brush RLE to a flat uint8 RGBA array (as the converter decodes it)."""
    stream = _Bits(bytes(rle))
    num = stream.read(32)
    word_size = stream.read(5) + 1
    rle_sizes = [stream.read(4) + 1 for _ in range(4)]
    out = np.zeros(num, dtype=np.uint8)
    i = 0
    while i < num:
        repeat = stream.read(1)
        j = i + 1 + stream.read(rle_sizes[stream.read(2)])
        if repeat:
            out[i:j] = stream.read(word_size)
            i = j
        else:
            while i < j:
                out[i] = stream.read(word_size)
                i += 1
    return out


def _safe(text: str) -> str:
    return "".join(c for c in text if c.isalnum() or c in "@.")


def _png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def _npy(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, pixels)
    return out.getvalue()


def _write_brush(ctx: WriterContext, tasks: Iterator[dict], *, encode, extension: str):
    """One file per brush region: ``task-<id>-annotation-<id>-by-<annotator>-<control>-
    <labels>-<n>.<extension>``, the converter's names; the mask is the alpha channel."""
    archive = ZipStream()
    for task in tasks:
        for item in task_items(task, ctx.schema, by=ctx.annotator):
            who = _safe("" if item["completed_by"] is None else str(item["completed_by"]))
            for from_name, results in item["output"].items():
                counters: dict[str, int] = defaultdict(int)
                for result in results:
                    kind = result["type"].lower()
                    key = (
                        "brushlabels"
                        if kind == "brushlabels"
                        else ("labels" if kind == "labels" else None)
                    )
                    if key is None or "rle" not in result:
                        continue
                    layer = from_name + "-" + "-".join(result.get(key) or ["no_label"])
                    index = counters[layer]
                    counters[layer] += 1
                    width, height = result["original_width"], result["original_height"]
                    try:
                        pixels = decode_rle(result["rle"]).reshape([height, width, 4])[:, :, 3]
                    except ValueError:
                        ctx.notes.add(item["id"], f"brush region of {from_name!r} does not decode")
                        continue
                    name = f"{layer}-{index}".replace("/", "-").replace("\\", "-")
                    archive.write(
                        f"task-{item['id']}-annotation-{item['annotation_id']}-by-{who}-{name}"
                        f".{extension}",
                        encode(pixels),
                    )
        if archive.full:
            yield archive.drain()
    if ctx.notes.skipped:
        archive.write("notes.json", orjson.dumps(ctx.notes.as_dict(), option=orjson.OPT_INDENT_2))
    yield archive.close()


def write_brush_png(ctx: WriterContext, tasks: Iterator[dict]) -> Iterator[bytes]:
    return _write_brush(ctx, tasks, encode=_png, extension="png")


def write_brush_numpy(ctx: WriterContext, tasks: Iterator[dict]) -> Iterator[bytes]:
    """BRUSH_TO_NUMPY: each mask as a 2-d uint8 NumPy array (``np.save``, ``.npy``)."""
    return _write_brush(ctx, tasks, encode=_npy, extension="npy")


def write_asr_manifest(ctx: WriterContext, tasks: Iterator[dict]) -> Iterator[bytes]:
    """NeMo's manifest: a JSON line per annotation with ``audio_filepath``, ``duration``,
    ``text`` (the first transcription) and ``annotator``. With ``download_resources`` the
    audio goes under ``audio/`` and WAV durations are measured; without it the path is
    the task's URL and ``duration`` is null (the converter skips such items instead)."""
    archive = ZipStream()
    key = data_keys(ctx.schema)[0]
    names: set[str] = set()

    def lines() -> Iterator[bytes]:
        last: tuple[int, tuple] | None = None
        for task in tasks:
            for item in task_items(task, ctx.schema, by=ctx.annotator):
                text = next(
                    (v[0]["text"][0] for v in item["output"].values() if v and v[0].get("text")),
                    None,
                )
                if text is None:
                    continue
                url = item["input"].get(key)
                if last and last[0] == item["id"]:
                    path, duration = last[1]
                else:
                    path, duration = url, None
                    if ctx.download_resources:
                        media = read_media(ctx.project_id, url, task_id=item["id"], notes=ctx.notes)
                        if media is None:
                            continue
                        name, body = media
                        if name in names:
                            name = f"{item['id']}-{name}"
                        names.add(name)
                        path = archive.safe_name(f"audio/{name}")
                        pending.append((path, body))
                        try:
                            with wave.open(io.BytesIO(body)) as audio:
                                duration = audio.getnframes() / float(audio.getframerate())
                        except (wave.Error, EOFError):
                            ctx.notes.add(
                                item["id"], f"{basename_of(url)!r}: duration unknown (not WAV)"
                            )
                    last = (item["id"], (path, duration))
                who = item["completed_by"]
                record = {
                    "audio_filepath": path,
                    "duration": duration,
                    "text": text,
                    "annotator": "" if who is None else who,
                }
                yield orjson.dumps(record) + b"\n"

    # The manifest and each audio file are separate ZIP members, which cannot
    # interleave: the manifest is spooled to a temporary file and written last, and
    # the audio goes in as it comes.
    pending: list[tuple[str, bytes]] = []
    manifest = tempfile.TemporaryFile()
    for line in lines():
        manifest.write(line)
        for path, body in pending:
            archive.write(path, body, named=True)
        pending.clear()
        if archive.full:
            yield archive.drain()

    def replay() -> Iterator[bytes]:
        manifest.seek(0)
        while chunk := manifest.read(256 * 1024):
            yield chunk
        manifest.close()

    yield from archive.write_iter("manifest.json", replay())
    if ctx.notes.skipped:
        archive.write("notes.json", orjson.dumps(ctx.notes.as_dict(), option=orjson.OPT_INDENT_2))
    yield archive.close()
