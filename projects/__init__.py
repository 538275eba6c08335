"""Projects: the bottom layer. Owns Project, the labeling config (parsed and validated
with lxml: ``label_config``, ``label_config_tags``), membership and roles
(``ProjectMember``, ``permissions``), users and API tokens, project settings.

Imports no other LabelHub app, except the project detail endpoint
(``GET|PATCH|DELETE /api/projects/{id}/`` and ``.../validate/`` in ``detail_api``, and
``urls``), which sits above ``annotations`` (an overlap change and a delete reach tasks
and annotations; pyproject.toml's layers)."""
