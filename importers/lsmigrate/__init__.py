"""Migration from a running Label Studio (1.23.x), through its public REST API only.

- ``client``: the HTTP client (the one SSRF rule, legacy tokens and personal access
  tokens, Label Studio's clock from its ``Date`` header).
- ``service``: ``migrate(...)``, the run: users (with invite links), then each project
  in one transaction (settings, members, tasks, the registered steps, the check).
- ``taskcopy``: one project's tasks, annotations and predictions (bulk writer, id
  mapping, timestamps, parent links, changes to tasks copied before).
- ``delta``: which tasks a re-run reads again (changed since the last copy began).
- ``report``: what the run prints and the staff page shows.
- ``steps``: the built-in step (Data Manager tabs); other apps register theirs in
  ``labelhub.migration_steps`` (drafts, labels, ML backends, webhooks, storages).
- ``jobs``: the background job behind the staff page.
- ``cli``: ``labelhub migrate-from-label-studio``.
"""
