"""The storage kinds, by the name Label Studio gives each (``/api/storages/{kind}/``).

Each kind module declares ``TITLE``, ``FIELDS`` (its own fields, Label Studio's names) and
a ``Backend`` (``io_storages.backend``) built over a storage row, saved or not.

A kind's module is imported the first time it is looked up: the client libraries (boto3,
google-cloud-storage, azure-storage-blob, redis) cost seconds of start-up and tens of MB
in every process, and most servers use one kind or none.
"""

import importlib
from collections.abc import Iterator, Mapping
from types import ModuleType

from io_storages.backend import Backend


class _Kinds(Mapping[str, ModuleType]):
    """Kind name -> its module, imported on first access."""

    def __init__(self, modules: dict[str, str]):
        self._modules = modules

    def __getitem__(self, name: str) -> ModuleType:
        return importlib.import_module(self._modules[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)


# In Label Studio's order (``/api/storages/types``).
KINDS = _Kinds(
    {
        "s3": "io_storages.kinds.s3",
        "gcs": "io_storages.kinds.gcs",
        "azure": "io_storages.kinds.azure",
        "redis": "io_storages.kinds.redis_kind",
        "localfiles": "io_storages.kinds.localfiles",
    }
)


def backend_for(storage) -> Backend:
    """The client for a storage row; it vets its endpoint (SSRF) each time it is built."""
    return KINDS[storage.kind].Backend(storage)
