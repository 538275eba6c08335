"""Migration from a running Label Studio (1.23.x), through its public REST API only.

- ``client``: the HTTP client (the one SSRF rule, legacy tokens and personal access
  tokens).
- ``service``: ``migrate(...)``, the copy itself, per project in one transaction.
- ``steps``: the built-in steps (Data Manager tabs); other apps register theirs in
  ``labelhub.migration_steps``.
- ``jobs``: the background job behind the staff page.
- ``cli``: ``labelhub migrate-from-label-studio``.
"""
