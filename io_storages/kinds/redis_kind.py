"""Redis: keys under ``path`` (a key prefix) hold task JSON, or values served as blobs.

The host is vetted by the SSRF rule and the client then connects to the vetted address,
so the name cannot resolve elsewhere between the check and the connection. Task data
points at ``redis://<path>/<key>`` (Label Studio's form), which the resolve proxy serves.
"""

from collections.abc import Iterator

import redis
from django.conf import settings

from io_storages.backend import Backend as BaseBackend
from io_storages.backend import Field, ObjectInfo, StorageError
from io_storages.endpoints import host_vet

TITLE = "Redis"
FIELDS = [
    Field("path", label="Path"),
    Field("host", label="Host"),
    Field("port", label="Port"),
    Field("password", secret=True, label="Password"),
    Field("db", type="int", label="Database"),
]
DEFAULT_DB = {"import": 1, "export": 2}


class Backend(BaseBackend):
    scheme = "redis"
    container_field = "path"

    def __init__(self, storage) -> None:
        super().__init__(storage)
        host = str(storage.option("host") or "localhost")
        try:
            port = int(storage.option("port") or 6379)
        except (TypeError, ValueError):
            raise StorageError("port must be a number", "port") from None
        if not 0 < port < 65536:
            raise StorageError("port must be between 1 and 65535", "port")
        address = host_vet(host, port, field="host")
        side = "export" if hasattr(storage, "can_delete_objects") else "import"
        db = storage.option("db")
        self.client = redis.Redis(
            host=address,
            port=port,
            db=int(DEFAULT_DB[side] if db is None else db),
            password=storage.secret("password") or None,
            socket_connect_timeout=settings.LABELHUB_STORAGE_TIMEOUT,
            socket_timeout=settings.LABELHUB_STORAGE_TIMEOUT,
        )

    @property
    def prefix(self) -> str:
        return str(self.storage.option("path", "") or "")

    def list_prefix(self) -> str:
        return self.prefix

    def uri(self, key: str) -> str:
        return f"redis://{self.prefix}/{key}"

    def key_for_uri(self, uri: str) -> str | None:
        head = f"redis://{self.prefix}/"
        return uri[len(head) :] or None if uri.startswith(head) else None

    def _fail(self, exc: Exception) -> StorageError:
        return StorageError(f"Can't connect to Redis server: {exc}", "host")

    def check(self, *, source: bool) -> None:
        try:
            self.client.ping()
        except redis.RedisError as exc:
            raise self._fail(exc) from None

    def iter_objects(self, *, recursive: bool) -> Iterator[ObjectInfo]:
        match = _escape(self.prefix) + "*"
        try:
            for raw in self.client.scan_iter(match=match, count=1000):
                key = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
                yield ObjectInfo(key)
        except redis.RedisError as exc:
            raise self._fail(exc) from None

    def read(self, key: str) -> bytes:
        try:
            value = self.client.get(key)
        except redis.RedisError as exc:
            raise self._fail(exc) from None
        if value is None:
            raise StorageError(f"redis key {key!r} does not exist")
        return value

    def write(self, key: str, body: bytes) -> None:
        try:
            self.client.set(key, body)
        except redis.RedisError as exc:
            raise self._fail(exc) from None

    def delete(self, key: str) -> None:
        try:
            self.client.delete(key)
        except redis.RedisError as exc:
            raise self._fail(exc) from None


def _escape(text: str) -> str:
    """A literal prefix for SCAN's glob MATCH."""
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)
