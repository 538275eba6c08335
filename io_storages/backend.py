"""The storage kinds: the fields each one takes and the client that talks to it.

Each kind module declares ``FIELDS`` (its own fields, Label Studio's names) and a
``Backend`` class built over a storage row (saved or not). A backend does the little a
sync, a target write and a presign need: list objects, read one, write one, delete one,
sign a URL. Every client error becomes ``StorageError`` with a message a person can act
on, which the service answers as a 400 (on save, validate and sync) or records as the
sync's ``traceback``.

A backend vets its outbound endpoint (``io_storages.endpoints``) each time it is built,
so a rule added after a storage was saved (or a host name that now resolves elsewhere)
applies at the next use.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class StorageError(Exception):
    """A storage that cannot be reached or used; ``field`` names the input to fix."""

    def __init__(self, message: str, field: str | list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "str"  # str | int | bool
    secret: bool = False
    required: bool = False
    default: Any = None
    label: str = ""
    only: str = ""  # "import" or "export": the field exists on that side only


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    last_modified: datetime | None = None
    size: int | None = None


class Backend:
    """Base of the kind clients. ``scheme`` is the URI scheme task data uses
    (``s3://bucket/key``); ``container_field`` the option holding the bucket name."""

    scheme = ""
    container_field = "bucket"

    def __init__(self, storage) -> None:
        self.storage = storage

    # -- where objects live
    @property
    def container(self) -> str:
        return str(self.storage.option(self.container_field, ""))

    @property
    def prefix(self) -> str:
        return str(self.storage.option("prefix", "") or "")

    def list_prefix(self) -> str:
        """The listing prefix: ``prefix/`` (Label Studio lists the prefix as a folder)."""
        prefix = self.prefix
        return prefix.rstrip("/") + "/" if prefix else ""

    def uri(self, key: str) -> str:
        return f"{self.scheme}://{self.container}/{key}"

    def key_for_uri(self, uri: str) -> str | None:
        """The object key of ``uri`` when it points into this storage, else None."""
        head = f"{self.scheme}://{self.container}/"
        if not uri.startswith(head):
            return None
        key = uri[len(head) :]
        return key or None

    def target_key(self, name: str) -> str:
        prefix = self.prefix.strip("/")
        return f"{prefix}/{name}" if prefix else name

    # -- what each kind implements
    def check(self, *, source: bool) -> None:
        raise NotImplementedError

    def iter_objects(self, *, recursive: bool) -> Iterator[ObjectInfo]:
        raise NotImplementedError

    def read(self, key: str) -> bytes:
        raise NotImplementedError

    def open(self, key: str) -> tuple[Iterator[bytes], str | None, int | None]:
        """(chunks, content type, length) for the proxy that serves an object."""
        body = self.read(key)
        return iter([body]), None, len(body)

    def presigned_url(self, key: str, seconds: int) -> str | None:
        """A URL the browser may fetch directly, or None (then the server proxies)."""
        return None

    def write(self, key: str, body: bytes) -> None:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError
