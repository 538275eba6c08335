"""Tasks: Task (one item to label, its data, meta and counters) and TaskLock with the lock
helpers (``locks``) the Label Stream uses; ``representations`` turns tasks, annotations,
predictions and reviews into Label Studio's JSON shapes.

Imports only ``projects``. Counters on Task are written by ``annotations.counters``; the
task endpoints are served by ``annotations`` (detail) and ``datamanager`` (the list)."""
