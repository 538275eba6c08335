"""The storage kinds, by the name Label Studio gives each (``/api/storages/{kind}/``).

Each kind module declares ``TITLE``, ``FIELDS`` (its own fields, Label Studio's names) and
a ``Backend`` (``io_storages.backend``) built over a storage row, saved or not.
"""

from io_storages.backend import Backend
from io_storages.kinds import azure, gcs, localfiles, redis_kind, s3

# In Label Studio's order (``/api/storages/types``).
KINDS = {
    "s3": s3,
    "gcs": gcs,
    "azure": azure,
    "redis": redis_kind,
    "localfiles": localfiles,
}


def backend_for(storage) -> Backend:
    """The client for a storage row; it vets its endpoint (SSRF) each time it is built."""
    return KINDS[storage.kind].Backend(storage)
