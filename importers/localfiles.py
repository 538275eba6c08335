"""``GET /data/local-files/?d=<path>`` (routed by io_storages): files from a local folder,
when an admin allows it.

Served only when LabelHub runs with ``--allow-serving-local-files`` (or
``LABELHUB_ALLOW_SERVING_LOCAL_FILES``), only to staff and to members of a project with a
task that names the file (``may_read``), and only from under
``LABELHUB_LOCAL_FILES_ROOT`` (no default: unset means nothing is served). The path is
URL-decoded once by Django, then resolved with every symlink followed; it must still be
inside the root, so ``..``, absolute paths, encoded separators (``%2e%2e%2f`` arrives as
``../``, and a double-encoded one is just a strange file name) and symlinks that point out
of the root all end in a 404, the same answer as a file that does not exist.
"""

import mimetypes
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, Http404
from rest_framework.exceptions import PermissionDenied

from importers.media import _sandboxed
from projects.models import Project
from tasks.models import Task


def local_root() -> Path | None:
    root = settings.LABELHUB_LOCAL_FILES_ROOT
    if not root:
        return None
    return Path(root).expanduser().resolve()


def local_path(relative: str) -> Path | None:
    """The file for ``relative`` under the root, or None if it is missing or escapes."""
    root = local_root()
    if root is None or not relative or "\x00" in relative:
        return None
    candidate = (root / relative.lstrip("/")).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def may_read(user, relative: str) -> bool:
    """Staff, or a member of a project with a task that points at this file.

    The check looks for the path in the data of the tasks of the user's projects (one
    ``EXISTS`` over a text match: a scan of those projects' tasks, paid only by this
    opt-in feature). A file no task of theirs names answers 404, like a missing one."""
    if user.is_staff:
        return True
    forms = {relative, quote(relative, safe="/")}
    tasks = Task.objects.filter(project__in=Project.objects.for_user(user))
    return any(
        tasks.filter(data__icontains=f"/data/local-files/?d={form}").exists() for form in forms
    )


def serve(request, allowed):
    """The file ``?d=`` when serving is on, it lies under the root and
    ``allowed(user, relative)`` (``may_read``, or more: io_storages serves this path and
    also lets members read the folders of their local-files storages); else 404. With
    serving off, a 403 saying so, as Label Studio answers (it tells nothing about any
    file, only the server's switch)."""
    if not settings.LABELHUB_ALLOW_SERVING_LOCAL_FILES:
        raise PermissionDenied(
            "Serving local files is off. An admin turns it on with "
            "LABELHUB_ALLOW_SERVING_LOCAL_FILES (files under LABELHUB_LOCAL_FILES_ROOT only)."
        )
    relative = request.query_params.get("d", "")
    path = local_path(relative)
    if path is None or not allowed(request.user, relative.lstrip("/")):
        raise Http404
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return _sandboxed(FileResponse(open(path, "rb"), content_type=content_type))
