"""Importers: every input format, cloud manifests, background jobs (storages: io_storages).

Endpoints (all also answer without the trailing slash):

- ``POST /api/projects/{id}/import``: a JSON body (tasks or a manifest), multipart files
  (json, jsonl, csv, tsv, txt, zip, rar, media), or ``url=`` (form field or query
  parameter); ``?return_task_ids=true``, ``?skip_duplicate_urls=true``. Small imports
  answer ``{task_count, annotation_count, prediction_count, duration}``; large ones
  ``{"import": id}``.
- ``GET /api/projects/{id}/imports/`` and ``GET /api/projects/{id}/imports/{import_id}/``
  (``?return_task_ids=true``): background job status.
- ``GET|POST /api/projects/{id}/sample-task``, ``GET /api/projects/{id}/sample-file?format=``.
- ``GET /data/upload/{project id}/{name}``: uploaded media, for project members.
- ``GET /data/local-files/?d=``: local files, when serving them is switched on.

Module map: ``api`` (views), ``services`` (the import pass), ``records``
(validation), ``bulk`` (COPY / bulk_create), ``sources`` (files, spooling, dispatch),
``formats/`` (json, jsonl, csv, tsv, txt), ``archives``, ``media``, ``manifests``,
``ssrf``, ``jobs``/``tasks`` (Celery), ``samples``, ``localfiles``, ``cli``.
"""
