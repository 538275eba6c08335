"""Projects: the bottom layer. Owns Project, the labeling config (parsed and validated
with lxml: ``label_config``, ``label_config_tags``), membership and roles
(``ProjectMember``, ``permissions``), users and API tokens, project settings.

Imports no other LabelHub app. ``GET|PATCH|DELETE /api/projects/{id}/`` is served by
``annotations`` (an overlap change and a delete reach tasks and annotations)."""
