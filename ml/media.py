"""Reading task media on the worker (image files for the image classifier)."""

import base64
import io
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from PIL import Image

MAX_PIXELS = 64_000_000


def _uploaded_path(url: str) -> Path | None:
    path = urlsplit(url).path
    if not path.startswith(settings.MEDIA_URL):
        return None
    root = (Path(settings.MEDIA_ROOT) / "upload").resolve()
    target = (root / unquote(path[len(settings.MEDIA_URL) :])).resolve()
    return target if target.is_relative_to(root) and target.is_file() else None


def media_stamp(url: str) -> tuple | None:
    """(path, size, mtime) of an uploaded file, for caching; None for anything else."""
    target = _uploaded_path(url) if not url.startswith("data:") else None
    if target is None:
        return None
    stat = target.stat()
    return (str(target), stat.st_size, stat.st_mtime_ns)


def open_image(url: str) -> Image.Image:
    """Open a task's image: an uploaded file (``/data/upload/...``) or a ``data:`` URI.
    Other locations raise ValueError naming the URL."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    if url.startswith("data:image/") and ";base64," in url:
        return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    target = _uploaded_path(url)
    if target is not None:
        return Image.open(target)
    raise ValueError(f"cannot read the image {url[:200]}: only uploaded files and data: URIs")
