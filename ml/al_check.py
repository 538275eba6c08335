"""Is active learning beating random picks in this project? Measured on the project's
own labels, at every training of a built-in classifier in an ``active-learning``
project, and shown on the ML page.

The random lane (``ml.sampling``) is a fixed pseudo-random share of the tasks that the
stream only ever hands out at random, so its labeled tasks are a uniform sample of the
project: an honest test set, whatever the model thought of them. ``active_vs_random``
compares, at equal numbers of labels ``m``:

- *active*: the model trained on the first ``m`` labels outside the lane, in the order
  they were given (the warm-up's random picks, then the active order's), scored on every
  labeled lane task;
- *random*: the model trained on ``m`` lane labels, scored on the lane tasks it did not
  see (``FOLDS``-fold: each lane task is scored once).

Both are accuracies over the same lane tasks. ``m`` goes up to what the lane allows (two
thirds of its labeled tasks), so a larger ``al_epsilon`` compares further along.
``verdict`` reads the comparison: ahead, behind, or too close to call.
"""

from __future__ import annotations

import numpy as np

from ml.sampling import in_random_lane

FOLDS = 3
POINTS = 6


def _pick(values, rows):
    return values[rows] if hasattr(values, "shape") else [values[i] for i in rows]


def _accuracy(model_class, spec, inputs, targets, train, test) -> list[bool] | None:
    train_targets = _pick(targets, train)
    if len(set(train_targets)) < 2:
        return None
    model = model_class(spec)
    model.fit(_pick(inputs, train), train_targets)
    predicted = model.predict(_pick(inputs, test))[0]
    return [model.target(r) == t for r, t in zip(predicted, _pick(targets, test), strict=True)]


def active_vs_random(
    *, model_class, spec, inputs, targets, task_ids, order: dict[int, int], share: float
) -> dict:
    """``{"lane": n, "points": [{"labels", "active", "random"}], "test": n}``; no points
    while the lane has too few labels to train and test on."""
    n = len(task_ids)
    lane = [i for i in range(n) if in_random_lane(task_ids[i], share)]
    active = sorted(
        (i for i in range(n) if not in_random_lane(task_ids[i], share)),
        key=lambda i: order.get(task_ids[i], 0),
    )
    classes = len(set(targets))
    out: dict = {"lane": len(lane), "points": [], "test": len(lane)}
    if len(lane) < 3 * FOLDS:
        return out
    shuffled = list(np.random.RandomState(0).permutation(lane))
    folds = [shuffled[f::FOLDS] for f in range(FOLDS)]
    top = min(len(lane) - max(len(f) for f in folds), len(active))
    low = max(2 * classes, 10)
    if top < low:
        return out
    grid = sorted({int(round(m)) for m in np.linspace(low, top, POINTS)})
    for m in grid:
        active_right = _accuracy(model_class, spec, inputs, targets, active[:m], shuffled)
        random_right: list[bool] = []
        for f, test in enumerate(folds):
            train = [i for g, fold in enumerate(folds) if g != f for i in fold][:m]
            right = _accuracy(model_class, spec, inputs, targets, train, test)
            if right is None:
                random_right = []
                break
            random_right += right
        if active_right is None or not random_right:
            continue
        out["points"].append(
            {
                "labels": m,
                "active": round(float(np.mean(active_right)), 4),
                "random": round(float(np.mean(random_right)), 4),
            }
        )
    return out


def verdict(check: dict | None) -> dict:
    """``{"state": "ahead" | "behind" | "even" | "unknown", "message"}`` from the
    newest comparison: the mean gap over its larger half of label counts, against one
    standard error of an accuracy on that many lane tasks."""
    if not check or not check.get("points"):
        have = (check or {}).get("lane", 0)
        return {
            "state": "unknown",
            "message": f"Not enough random picks to compare yet ({have} labeled tasks in "
            "the random lane; the comparison starts at about 30).",
        }
    points = check["points"]
    later = points[len(points) // 2 :]
    gap = float(np.mean([p["active"] - p["random"] for p in later]))
    p = float(np.mean([p["random"] for p in later]))
    se = float(np.sqrt(max(p * (1 - p), 0.01) / max(check["test"], 1)))
    last = points[-1]
    at = (
        f"at {last['labels']} labels, active {last['active']:.3f} vs random "
        f"{last['random']:.3f} on {check['test']} randomly picked tasks"
    )
    if gap > se:
        return {"state": "ahead", "message": f"Active learning is ahead of random picks ({at})."}
    if gap < -se:
        return {
            "state": "behind",
            "message": f"Active learning is behind random picks in this project ({at}).",
        }
    return {
        "state": "even",
        "message": f"Active learning is not beating random picks in this project ({at}).",
    }
