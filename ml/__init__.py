"""Machine learning: built-in scikit-learn models trained by Celery jobs, Label Studio ML
backends (remote, over HTTP), prediction jobs, and the active-learning sampler.

Modules: ``models``, ``builtin/`` (the three models), ``training`` and ``predicting``
(the jobs), ``remote`` (the ML backend protocol client), ``services``/``selectors``,
``api``/``urls`` (``/api/ml/...``, ``/api/projects/{id}/predict``), ``sampling``
(``active-learning``), ``actions`` (``retrieve_tasks_predictions``), ``events``
(webhooks and retraining after annotation changes), ``cli`` (``labelhub train``).
"""
