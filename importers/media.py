"""Media files: one task per file, stored under the data directory, served to members.

An uploaded image, audio, video, PDF or HTML file is copied to
``DATA_DIR/media/upload/<project id>/<random>-<name>`` and the task's data points at
``/data/upload/<project id>/<random>-<name>``, which ``MediaFileView`` serves to members
of that project only. HTML is sanitized with nh3 before it is stored, and every media
response carries ``Content-Security-Policy: sandbox`` so that nothing served from here
(an SVG, say) can run script in LabelHub's origin.
"""

import mimetypes
import re
import secrets
from pathlib import Path

import nh3
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponseRedirect
from django.views.decorators.clickjacking import xframe_options_sameorigin
from rest_framework.views import APIView

from importers.formats import file_error
from importers.records import TaskRow
from labelhub.content import is_active_content
from labelhub.ranges import ranged_file_response
from projects import permissions as perms
from projects.label_config import ParsedConfig, data_keys_for_object_types

MEDIA_TYPES = {
    "image": {"jpg", "jpeg", "png", "gif", "bmp", "webp", "svg", "tif", "tiff", "avif"},
    "audio": {"wav", "mp3", "flac", "m4a", "ogg", "oga", "opus", "aac", "weba"},
    "video": {"mp4", "webm", "mov", "m4v", "ogv", "mkv", "avi"},
    "pdf": {"pdf"},
    "html": {"html", "htm", "xhtml"},
}
_BY_EXTENSION = {ext: kind for kind, exts in MEDIA_TYPES.items() for ext in exts}
OBJECT_TAGS = {
    "image": ("Image",),
    "audio": ("Audio", "AudioPlus"),
    "video": ("Video",),
    "pdf": ("PDF",),
    "html": ("HyperText",),
    "text": ("Text", "HyperText", "Markdown"),
}
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_STORED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,240}$")
HTML_LIMIT = 20 * 1024 * 1024


def extension(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def media_type(name: str) -> str | None:
    return _BY_EXTENSION.get(extension(name))


def object_keys(parsed: ParsedConfig, types, *, want_list: bool = False) -> list[str]:
    """Data keys of the object tags of ``types``; where some read a list (``valueList``)
    and some one value, only those that match ``want_list``."""
    keys = data_keys_for_object_types(parsed, types=types)
    if len(keys) > 1:
        matching = [
            obj["value"]
            for obj in parsed.objects.values()
            if obj["type"] in types
            and obj["value"] is not None
            and bool(obj.get("value_list")) == want_list
        ]
        keys = list(dict.fromkeys(matching)) or keys
    return keys


def single_object_key(
    parsed: ParsedConfig, types, *, where: str, subject: str, want_list: bool = False
) -> str:
    """The data key of the config's one object tag of ``types``, or a file error that
    says there is none, or several (``subject`` names what needs the tag)."""
    keys = object_keys(parsed, types, want_list=want_list)
    shown = " or ".join(f"<{tag}>" for tag in types)
    if not keys:
        raise file_error(where, f"{subject} needs a {shown} tag in the labeling config")
    if len(keys) > 1:
        raise file_error(
            where,
            f"{subject} fits several {shown} tags of the labeling config (data keys "
            + ", ".join(f'"{key}"' for key in keys)
            + "), so it is not clear which one to fill; import JSON tasks with explicit data keys",
        )
    return keys[0]


UNDEFINED_KEY = "$undefined$"


def media_key(parsed: ParsedConfig, kind: str, filename: str) -> str:
    """The data key for a media file: the config's one object tag of that type. A config
    without such a tag gets Label Studio's: the first data key the config reads, or
    ``$undefined$`` when it reads none (a project still without a config)."""
    if not object_keys(parsed, OBJECT_TAGS[kind]):
        return parsed.data_keys[0] if parsed.data_keys else UNDEFINED_KEY
    return single_object_key(parsed, OBJECT_TAGS[kind], where=filename, subject=f"this {kind} file")


def stored_name(original: str) -> str:
    base = original.rsplit("/", 1)[-1]
    safe = _SAFE.sub("_", base).strip("._") or "file"
    return f"{secrets.token_hex(4)}-{safe[-120:]}"


class MediaStore:
    """Writes media files for one import (through the media storage: the data folder,
    or the bucket with ``S3_*``) and can take them back if the import fails."""

    def __init__(self, project_id: int) -> None:
        self.project_id = project_id
        self.written: list[str] = []

    def save(self, source: Path, original: str, kind: str) -> str:
        name = stored_name(original)
        if kind == "html":
            if source.stat().st_size > HTML_LIMIT:
                raise file_error(original, "the HTML file is larger than 20 MB")
            text = source.read_bytes().decode("utf-8", "replace")
            content = ContentFile(nh3.clean(text).encode("utf-8"))
            key = default_storage.save(media_key_for(self.project_id, name), content)
        else:
            with open(source, "rb") as handle:
                key = default_storage.save(media_key_for(self.project_id, name), File(handle))
        self.written.append(key)
        return f"{settings.MEDIA_URL}{self.project_id}/{key.rsplit('/', 1)[-1]}"

    def discard(self) -> None:
        for key in self.written:
            default_storage.delete(key)
        self.written.clear()


def media_key_for(project_id: int, name: str) -> str:
    """The storage key of an uploaded file (``upload/<project>/<name>``)."""
    return f"upload/{project_id}/{name}"


def media_record(parsed: ParsedConfig, store: MediaStore, source: Path, original: str) -> TaskRow:
    kind = media_type(original)
    key = media_key(parsed, kind, original)
    url = store.save(source, original, kind)
    return TaskRow(data={key: url}, meta={"file": original.rsplit("/", 1)[-1]})


def _sandboxed(response):
    response["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; img-src data: 'self'; media-src 'self'; style-src 'unsafe-inline'"
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


class MediaFileView(APIView):
    """``GET /data/upload/<project id>/<name>``: a stored media file, for project members.

    The name must be one this module wrote (letters, digits, ``._-``), and the resolved
    path must sit directly in the project's folder, so no ``..``, separator, encoded
    separator or symlink can reach another file. Anything else is a 404.
    """

    @xframe_options_sameorigin
    def get(self, request, project_id: int, name: str):
        if not _STORED_NAME.match(name) or ".." in name:
            raise Http404
        if not perms.can(request.user, project_id, perms.VIEW):
            raise Http404
        key = media_key_for(project_id, name)
        if not default_storage.exists(key):
            raise Http404
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if media_type(name) == "html":
            content_type = "text/html; charset=utf-8"
        if settings.S3_MEDIA and not is_active_content(name):
            # A short-lived presigned URL, made only after the membership check above.
            response = HttpResponseRedirect(default_storage.url(key))
            response["Cache-Control"] = "private, no-store"
            return response
        # Files on disk, and HTML/SVG from the bucket (stored there as inert downloads),
        # are served from here under the sandbox CSP.
        # Range requests answered (206): browsers seek in audio and video only then.
        return _sandboxed(
            ranged_file_response(
                request,
                default_storage.open(key, "rb"),
                size=default_storage.size(key),
                content_type=content_type,
            )
        )
