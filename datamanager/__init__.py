"""Data Manager: the one filter engine (Label Studio's query format: ``query`` parses and
validates, ``columns`` is the allow-list of filterable and orderable columns, ``sql`` the
portable JSON and regex expressions, ``selectors`` pages and counts tasks), saved views
(``models.View``, written by ``services``), Data Manager actions (``actions``), the Ground
Truth Manager (``ground_truth``), and the task list API ``/api/tasks/`` (``api``/``urls``).

Imports ``projects``, ``tasks`` and ``annotations`` only."""
