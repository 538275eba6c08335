"""Exporters: one writer for each output format (JSON, JSON_MIN, CSV, TSV, CONLL2003,
COCO, VOC, YOLO), streamed; ``GET /api/projects/{id}/export/``.

Imports ``projects``, ``tasks``, ``annotations`` and ``datamanager`` only."""
