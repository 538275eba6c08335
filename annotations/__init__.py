"""Annotations: Annotation (completion), Prediction, Review, the ground-truth flag, and
every counter on Task and Project with the labeled-state rule (``counters``).

Also the two streams: the Label Stream (``stream``: next task for a user, with locks and
overlap; ``sampling``: the order it offers tasks in) and the Verify Stream (``verify``).
Writes in ``services`` (including task create/delete and project update/delete, whose
effects reach these tables), reads in ``selectors``, endpoints in ``api``/``urls``.

Imports ``projects`` and ``tasks`` only."""
