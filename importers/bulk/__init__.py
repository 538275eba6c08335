"""Bulk writers: validated rows in, tasks, annotations and predictions out.

Three writers with one interface (``write(rows)``, ``finish()``), both used inside the
caller's ``transaction.atomic`` so an import lands whole or not at all:

- ``SqliteWriter`` (SQLite): ``executemany`` of plain tuples in batches.
- ``OrmWriter`` (the fallback where COPY can't fill a table): ``bulk_create`` in batches.
- ``CopyWriter`` (PostgreSQL): ``COPY ... FROM STDIN`` in text format. Task ids are
  reserved from the table's own identity sequence on a side connection (sequences are
  not transactional, so the reservation is concurrency-safe and costs one round trip
  per batch), which lets one pass write tasks and the rows that point at them. The
  COPY runs in a writer thread on the same database connection while the main thread
  parses and encodes the next batch, so Python and the PostgreSQL backend use both
  cores. Measured here (2 cores, shared, load average about 4), 101k text tasks with
  one prediction each from a JSON file: ``bulk_create`` 16.5 s wall and 8.1 s of Python
  CPU, COPY 4.4 s wall and 1.0 s of Python CPU; for 1M, see bench/import_bench.py.

One module each: ``base`` (what they share: the columns, ``IdRanges``, the authors, the
``Writer`` base and its ``finish``), ``sqlite``, ``orm`` and ``postgres`` (``CopyWriter``
and its COPY text encoders); ``writer_for`` below picks one.
"""

from django.db import connection

from importers.bulk.base import Writer
from importers.bulk.orm import OrmWriter
from importers.bulk.postgres import CopyUnsupported, CopyWriter
from importers.bulk.sqlite import SqliteWriter
from projects.models import Project


def writer_for(*, project: Project, user, file_upload_id: int | None = None) -> Writer:
    """COPY on PostgreSQL, executemany on SQLite, bulk_create elsewhere. Every task gets
    ``file_upload_id`` (the upload it was made of, or None)."""
    if connection.vendor == "postgresql":
        try:
            return CopyWriter(project=project, user=user, file_upload_id=file_upload_id)
        except CopyUnsupported:
            pass
    if connection.vendor == "sqlite":
        return SqliteWriter(project=project, user=user, file_upload_id=file_upload_id)
    return OrmWriter(project=project, user=user, file_upload_id=file_upload_id)
