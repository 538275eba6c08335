"""Tasks: Task (one item to label, its data, meta and counters) and TaskLock with the lock
helpers (``locks``) the Label Stream uses; ``representations`` turns a task into Label
Studio's JSON shape (what it nests is ``annotations.representations``').

Imports only ``projects``, except the task detail endpoint (``api``, ``urls``), which sits
above ``annotations`` (pyproject.toml's layers). Counters on Task are written by
``annotations.counters``; the task list is served by ``datamanager``."""
