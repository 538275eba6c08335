"""Does active learning save labels? The product's active-learning order against uniform
sampling, on real data: three sets of human-written short texts found on this machine and
scikit-learn's handwritten digits (bench/_al_data.py, bench/README.md).

Same code as the product, without the web round trips: the built-in models
(``ml.builtin``: the text classifier's TF-IDF and logistic regression, the image
classifier's HOG features from 32x32 PNGs), the prediction job's order
(``ml.strategy.Ranker``, fed in batches of ``LABELHUB_ML_BATCH_SIZE`` open tasks as the
job feeds it) and the Label Stream's active-learning sampler rules (``ml.sampling``:
random picks during the warm-up, the ``al_epsilon`` share of random picks from the
random lane, otherwise the lowest priority first). An annotator labels one task at a
time; every ``--step`` labels (the product's ``retrain_every``) the model is trained
again, its held-out accuracy measured, and the order refreshed.

Per set and strategy it prints the labels needed to reach 95% of the accuracy of the
same model trained on the whole pool (median over seeds; "-" if not within the budget),
the area under the learning curve (mean accuracy over the checkpoints, mean over seeds),
and whether the curve stays at or above uniform at every checkpoint (mean over seeds,
within one standard error of the difference). Writes ``active_learning.json`` and
``active_learning.svg`` (accuracy against labels, mean and one standard error) to
``$BENCH_OUT`` (default bench/out).

    .venv/bin/python bench/active_learning.py --sets all --seeds 5
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
# One thread for BLAS and OpenMP: on the shared 2-core machine k-means and the SVD
# with a thread per (virtual) core ran ten times slower than with one.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
os.environ.setdefault("LABELHUB_DATA_DIR", tempfile.mkdtemp(prefix="labelhub-al-bench-"))

import django  # noqa: E402
from django.apps import apps as _apps  # noqa: E402

if not _apps.ready:
    django.setup()

import _al_data  # noqa: E402
import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from PIL import Image  # noqa: E402

from ml.builtin import MODELS  # noqa: E402
from ml.builtin.image import image_features  # noqa: E402
from ml.builtin.text import DEFAULT_OPTIONS, WORDS_ONLY  # noqa: E402
from ml.sampling import in_random_lane, warmup_size  # noqa: E402
from ml.strategy import CLUSTER_MARGIN, DEFAULT, Ranker, Strategy  # noqa: E402
from projects.label_config import parse_label_config  # noqa: E402

MIN_TRAIN = 10  # Project.min_annotations_to_start_training's default


@dataclass(frozen=True)
class Mode:
    """One way of picking: ``uniform``, or the active-learning sampler with these rules."""

    name: str
    strategy: Strategy | None = None  # None: uniform
    warmup: str = "default"  # "default": ml.sampling.warmup_size; "min": the training minimum
    epsilon: float = 0.1
    lane: bool = True  # random picks from the random lane (ml.sampling.in_random_lane)
    extra: dict = field(default_factory=dict)
    model: str = "default"  # the text model's options: a key of TEXT_MODELS


MODES = {
    "uniform": Mode("uniform"),
    # Today's before this work: least confidence in 16 clusters, random picks until the
    # training minimum, then one pick in ten random (from any open task).
    "before": Mode(
        "before",
        Strategy(measure="least-confidence", clusters=16),
        warmup="min",
        lane=False,
    ),
    "active-learning": Mode("active-learning", DEFAULT),
    # The default of issue #25's first two rounds: margin ranked within 16 clusters.
    "cluster-margin": Mode("cluster-margin", CLUSTER_MARGIN),
}
# Variants tried on the way (bench/README.md); --modes picks any of them.
VARIANTS = {
    "lc-warm": Mode("lc-warm", Strategy(measure="least-confidence", clusters=16)),
    "margin-flat": Mode("margin-flat", Strategy(measure="margin", clusters=1)),
    "margin-density": Mode("margin-density", Strategy(measure="margin", clusters=16, density=1.0)),
    "margin-c20": Mode("margin-c20", Strategy(measure="margin", clusters=20)),
    "entropy": Mode("entropy", Strategy(measure="entropy", clusters=16)),
    "margin-eps30": Mode("margin-eps30", CLUSTER_MARGIN, epsilon=0.3),
    "margin-eps50": Mode("margin-eps50", CLUSTER_MARGIN, epsilon=0.5),
    "margin-nowarm": Mode("margin-nowarm", CLUSTER_MARGIN, warmup="min"),
    "margin-warm5": Mode("margin-warm5", CLUSTER_MARGIN, warmup="5"),
    "margin-ramp": Mode("margin-ramp", CLUSTER_MARGIN, extra={"ramp": True}),
    "margin-ramp20": Mode("margin-ramp20", CLUSTER_MARGIN, warmup="20", extra={"ramp": True}),
    "margin-stable": Mode("margin-stable", Strategy(clusters=16, stable=0.85), warmup="min"),
    "margin-stable9": Mode("margin-stable9", Strategy(clusters=16, stable=0.9), warmup="min"),
    "lc-warm5": Mode("lc-warm5", Strategy(measure="least-confidence", clusters=16), warmup="5"),
    # Tried for issue #25's second round (bench/README.md).
    "class-groups": Mode("class-groups", Strategy(groups="class")),
    "both-groups": Mode("both-groups", Strategy(clusters=16, groups="both")),
    "badge40": Mode("badge40", Strategy(clusters=16, badge=40)),
    "ramp-after": Mode("ramp-after", CLUSTER_MARGIN, extra={"after_ramp": 200}),
    "ramp-after-badge": Mode(
        "ramp-after-badge", Strategy(clusters=16, badge=40), extra={"after_ramp": 200}
    ),
    # Tried with the character n-gram model (issue #25's model round, bench/README.md).
    "margin-c4": Mode("margin-c4", Strategy(clusters=4)),
    "margin-c8": Mode("margin-c8", Strategy(clusters=8)),
    "margin-flat-warm5": Mode("margin-flat-warm5", Strategy(clusters=1), warmup="5"),
    "entropy-flat": Mode("entropy-flat", Strategy(measure="entropy", clusters=1)),
    # Tried in round 4 (bench/README.md): information density with one cluster (mean
    # cosine similarity to the open tasks, ^density), Cluster-Margin (the 200 least sure,
    # ten times a batch of retrain_every, spread over 16 clusters), a random share
    # falling from all to al_epsilon over 200 labels after the warm-up, and 30% random.
    "density-flat": Mode("density-flat", Strategy(density=1.0)),
    "density-flat2": Mode("density-flat2", Strategy(density=2.0)),
    "margin-top200": Mode("margin-top200", Strategy(clusters=16, top=200)),
    "ramp-after-flat": Mode("ramp-after-flat", DEFAULT, extra={"after_ramp": 200}),
    "margin-flat-eps30": Mode("margin-flat-eps30", DEFAULT, epsilon=0.3),
    "margin-flat-warm15": Mode("margin-flat-warm15", DEFAULT, warmup="15"),
    "class-groups-warm5": Mode("class-groups-warm5", Strategy(groups="class"), warmup="5"),
    "density-flat-warm5": Mode("density-flat-warm5", Strategy(density=1.0), warmup="5"),
}
MODES.update(VARIANTS)

# The text model's options (ml.builtin.text.TextOptions): any mode runs with any of them
# as ``mode@model`` (``--modes uniform@words,active-learning@words``); the image model
# has no options, so on digits only the plain modes run.
TEXT_MODELS = {
    "default": DEFAULT_OPTIONS,
    # Before issue #25's model round: words and word pairs, an intercept, C=4.
    "words": WORDS_ONLY,
    "words-corpus": replace(WORDS_ONLY, corpus=True),
    "words-nb": replace(WORDS_ONLY, intercept=False, class_weight="balanced"),
    "chars-int": replace(DEFAULT_OPTIONS, intercept=True, class_weight=None),
    "chars-nobal": replace(DEFAULT_OPTIONS, class_weight=None),
    "corpus": replace(DEFAULT_OPTIONS, corpus=True),
    "c10": replace(DEFAULT_OPTIONS, C=10.0),
    "c1": replace(DEFAULT_OPTIONS, C=1.0),
    "chars24": replace(DEFAULT_OPTIONS, chars=(2, 4)),
}


def mode_named(name: str) -> Mode:
    """A mode of ``MODES`` by name, with ``@model`` for a text model of ``TEXT_MODELS``."""
    base, _, model = name.partition("@")
    if model and model not in TEXT_MODELS:
        raise SystemExit(f"unknown text model {model!r}: one of {sorted(TEXT_MODELS)}")
    return replace(MODES[base], name=name, model=model or "default")


def _config(kind: str, classes: list[str]) -> tuple[str, str]:
    choices = "".join(f'<Choice value="{c}"/>' for c in classes)
    if kind == "image":
        return (
            f'<View><Image name="image" value="$image"/><Choices name="label" toName="image">'
            f"{choices}</Choices></View>",
            "image-classifier",
        )
    return (
        f'<View><Text name="text" value="$text"/><Choices name="label" toName="text">'
        f"{choices}</Choices></View>",
        "text-classifier",
    )


def _png_features(image: np.ndarray) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(image, mode="L").resize((32, 32), Image.Resampling.NEAREST).save(buffer, "PNG")
    buffer.seek(0)
    return image_features(Image.open(buffer))


class DataSet:
    """A set split once (seed 0) into a pool to label and a held-out test set."""

    def __init__(self, name: str, *, pool: int, test: int, given=None) -> None:
        self.name = name
        if given is not None:  # (texts, labels): the unit checks' synthetic sets
            inputs, labels = given
            self.kind = "text"
        elif name == "digits":
            images, labels = _al_data.digits()
            inputs = np.vstack([_png_features(im) for im in images])
            self.kind = "image"
        else:
            texts, labels = _al_data.TEXT_SETS[name]()
            inputs = texts
            self.kind = "text"
        order = np.random.RandomState(0).permutation(len(labels))
        test = min(test, len(labels) // 4)
        pool = min(pool, len(labels) - test)
        self.subsampled = pool + test < len(labels)
        self.size = len(labels)
        pick = (
            (lambda rows: inputs[rows])
            if self.kind == "image"
            else (lambda rows: [inputs[i] for i in rows])
        )
        self.pool_x, self.test_x = pick(order[:pool]), pick(order[pool : pool + test])
        self.pool_y = [labels[i] for i in order[:pool]]
        self.test_y = [labels[i] for i in order[pool : pool + test]]
        self.classes = sorted(set(labels))
        config, self.model_name = _config(self.kind, self.classes)
        model_class = MODELS[self.model_name]
        self.spec = model_class.spec_for(parse_label_config(config))
        if self.kind == "text":  # the model's own input conversion (tags stripped ...)
            converter = model_class(self.spec)
            self.pool_x = converter.inputs([{"text": t} for t in self.pool_x])
            self.test_x = converter.inputs([{"text": t} for t in self.test_x])

    @classmethod
    def from_lists(cls, name: str, texts: list[str], labels: list[str], *, pool: int, test: int):
        return cls(name, pool=pool, test=test, given=(texts, labels))

    def model(self, options: str = "default"):
        if self.kind == "text":
            return MODELS[self.model_name](self.spec, TEXT_MODELS[options])
        return MODELS[self.model_name](self.spec)

    def fit(self, model, index: list[int] | None = None) -> None:
        """Train on the pool rows ``index`` (None: the whole pool); a text model that
        fits its vocabulary on unlabeled texts too gets the whole pool as its corpus."""
        x = self.pool_x if index is None else self.rows(self.pool_x, index)
        y = self.pool_y if index is None else [self.pool_y[i] for i in index]
        if self.kind == "text" and model.options.corpus:
            model.fit(x, y, corpus=self.pool_x)
        else:
            model.fit(x, y)

    def rows(self, x, index: list[int]):
        return x[index] if self.kind == "image" else [x[i] for i in index]

    def accuracy(self, model) -> float:
        return float(model.evaluate(self.test_x, self.test_y)["accuracy"])

    def full_accuracy(self, options: str = "default") -> float:
        model = self.model(options)
        self.fit(model)
        return self.accuracy(model)


def simulate(data: DataSet, mode: Mode, seed: int, *, step: int, max_labels: int) -> list[dict]:
    """One annotator labeling ``max_labels`` tasks in ``mode``; held-out accuracy after
    every ``step`` labels (the model trained on them)."""
    rng = random.Random(seed)
    n = len(data.pool_y)
    open_ids = set(range(n))
    lane = {i for i in range(n) if in_random_lane(i, mode.epsilon)} if mode.lane else set()
    labeled: list[int] = []
    if mode.warmup == "min":
        warmup = MIN_TRAIN
    elif mode.warmup.isdigit():  # so many per class
        warmup = max(MIN_TRAIN, int(mode.warmup) * len(data.classes))
    else:
        warmup = warmup_size(classes=len(data.classes), min_training=MIN_TRAIN, chosen=None)
    order: list[int] = []  # the active-learning order of the last refresh
    previous: dict[int, int] = {}  # the last version's predicted class per task
    cursor = 0
    batch = settings.LABELHUB_ML_BATCH_SIZE
    points = []

    def random_pick(candidates) -> int:
        return rng.choice(sorted(candidates))

    while len(labeled) < min(max_labels, n):
        ramp_random = (
            mode.extra.get("ramp")
            and len(labeled) < warmup
            and rng.random() >= len(labeled) / warmup
        )
        if (
            mode.strategy is None
            or not order
            or (len(labeled) < warmup and not mode.extra.get("ramp"))
            or ramp_random
        ):
            pick = random_pick(open_ids)
        elif (draw := rng.random()) < mode.epsilon:
            open_lane = lane & open_ids
            pick = random_pick(open_lane or open_ids)
        elif draw < random_share(mode, len(labeled), warmup):
            pick = random_pick(open_ids)
        else:
            while cursor < len(order) and order[cursor] not in open_ids:
                cursor += 1
            pick = order[cursor] if cursor < len(order) else random_pick(open_ids)
        open_ids.discard(pick)
        labeled.append(pick)
        if len(labeled) % step:
            continue
        targets = [data.pool_y[i] for i in labeled]
        if len(set(targets)) < 2:
            points.append({"labels": len(labeled), "accuracy": 1 / len(data.classes)})
            continue
        model = data.model(mode.model)
        data.fit(model, labeled)
        points.append({"labels": len(labeled), "accuracy": data.accuracy(model)})
        if mode.strategy is None or not open_ids:
            continue
        # The prediction job: every open task, in id order, a batch at a time. The
        # random lane gets no priority (its tasks are only ever picked at random).
        ranked = sorted(open_ids - lane)
        ranker = Ranker(mode.strategy)
        for start in range(0, len(ranked), batch):
            ids = ranked[start : start + batch]
            _results, _scores, proba, features = model.predict_with_features(
                data.rows(data.pool_x, ids)
            )
            ranker.add(ids, proba, features)
            guess = np.asarray(proba).argmax(axis=1)
            ranker.agree([previous.get(i) == g for i, g in zip(ids, guess, strict=True)])
            previous.update(zip(ids, guess, strict=True))
        ids, priority = ranker.priorities()
        order = [int(i) for i in ids[np.argsort(priority, kind="stable")]]
        cursor = 0
    return points


def random_share(mode: Mode, labels: int, warmup: int) -> float:
    """The share of random picks after the warm-up: ``epsilon``, or with ``after_ramp``
    (labels) falling linearly from all random at the warm-up's end to ``epsilon``."""
    ramp = mode.extra.get("after_ramp")
    if not ramp:
        return mode.epsilon
    left = max(0.0, 1.0 - (labels - warmup) / ramp)
    return mode.epsilon + (1.0 - mode.epsilon) * left


def labels_to_reach(points: list[dict], target: float) -> int | None:
    for point in points:
        if point["accuracy"] >= target:
            return point["labels"]
    return None


def summarise(data: DataSet, runs: dict[str, list[list[dict]]], full: dict[str, float]) -> dict:
    """Per mode: mean curve, labels to target, area; and against the uniform mode of the
    same text model (``uniform`` or ``uniform@model``), the gap at every checkpoint.

    The runs are paired: seed ``s`` of every mode starts from the same random warm-up
    picks (the same ``random.Random(s)``), so the gap's standard error is that of the
    per-seed differences, ``std(a_s - u_s, ddof=1) / sqrt(seeds)``, not
    ``sqrt(se_a**2 + se_u**2)`` (that one, which ignores the pairing, is kept in the JSON
    as ``worst_gap_se_unpaired``)."""
    default = full["default"]
    labels = [p["labels"] for p in next(iter(runs.values()))[0]]
    out = {
        "set": data.name,
        "pool": len(data.pool_y),
        "test": len(data.test_y),
        "size": data.size,
        "classes": len(data.classes),
        "full_accuracy": default,
        "target": 0.95 * default,
        "full_accuracy_by_model": full,
        "labels": labels,
        "modes": {},
    }

    def matrix_of(name):
        return np.array([[p["accuracy"] for p in r] for r in runs[name]])

    for name, curves in runs.items():
        model = name.partition("@")[2] or "default"
        target = 0.95 * full[model]
        matrix = matrix_of(name)
        mean = matrix.mean(axis=0)
        se = matrix.std(axis=0, ddof=1) / np.sqrt(len(matrix)) if len(matrix) > 1 else 0 * mean
        reach = [labels_to_reach(r, target) for r in curves]
        known = [r if r is not None else float("inf") for r in reach]
        median = statistics.median(known)
        entry = {
            "model": model,
            "full_accuracy": full[model],
            "target": target,
            "mean": mean.round(4).tolist(),
            "se": np.asarray(se).round(4).tolist(),
            "labels_to_target": reach,
            "median_labels_to_target": None if median == float("inf") else median,
            "mean_curve_labels_to_target": labels_to_reach(
                [{"labels": x, "accuracy": a} for x, a in zip(labels, mean, strict=True)], target
            ),
            "auc": float(mean.mean()),
            "curves": matrix.round(4).tolist(),
        }
        uniform_name = "uniform" + (f"@{model}" if model != "default" else "")
        if not name.startswith("uniform") and uniform_name in runs:
            uniform = matrix_of(uniform_name)
            seeds = min(len(matrix), len(uniform))
            diff = matrix[:seeds] - uniform[:seeds]
            gap = diff.mean(axis=0)
            paired = seeds > 1
            se_gap = diff.std(axis=0, ddof=1) / np.sqrt(seeds) if paired else 0 * gap
            se_unpaired = (
                np.sqrt(
                    matrix[:seeds].var(axis=0, ddof=1) / seeds
                    + uniform[:seeds].var(axis=0, ddof=1) / seeds
                )
                if paired
                else 0 * gap
            )
            worst = int(gap.argmin())
            entry["uniform"] = uniform_name
            entry["worst_gap"] = float(gap.min())
            entry["worst_gap_at"] = labels[worst]
            entry["worst_gap_se"] = float(se_gap[worst])
            entry["worst_gap_se_unpaired"] = float(se_unpaired[worst])
            entry["auc_gap"] = float(gap.mean())
            entry["checkpoints_below"] = int(np.sum(gap < -se_gap))
            entry["checkpoints_below_unpaired"] = int(np.sum(gap < -se_unpaired))
            # One seed has no standard error: nothing to flag.
            entry["never_below_uniform"] = bool(np.all(gap >= -se_gap)) if paired else None
        out["modes"][name] = entry
    for entry in out["modes"].values():
        u = out["modes"].get(entry.get("uniform", ""))
        if not u:
            continue
        a, b = entry["median_labels_to_target"], u["median_labels_to_target"]
        entry["saving"] = None if a is None or b is None else round(1 - a / b, 3)
    return out


def report(result: dict) -> None:
    others = "".join(
        f", @{model} {accuracy:.3f}"
        for model, accuracy in result["full_accuracy_by_model"].items()
        if model != "default"
    )
    print(
        f"==> {result['set']}: pool {result['pool']} (of {result['size']}), test {result['test']}, "
        f"{result['classes']} classes; full-pool accuracy {result['full_accuracy']:.3f}{others} "
        f"(target: 95% of the mode's model's; {result.get('cpu_seconds', 0):.0f} s of runs)"
    )
    print(
        f"    {'mode':26s} {'labels to target':>17s} {'saving':>7s} {'AUC':>6s} {'vs U':>7s}"
        "  worst gap to uniform (paired SE)"
    )
    for name, entry in result["modes"].items():
        reach = entry["median_labels_to_target"]
        saving = entry.get("saving")
        gap = (
            f"{entry['worst_gap']:+.3f} at {entry['worst_gap_at']}"
            + (
                f" ({-entry['worst_gap'] / entry['worst_gap_se']:.1f} SE)"
                if entry["worst_gap"] < 0 and entry.get("worst_gap_se")
                else ""
            )
            + (
                f"  BELOW (> 1 SE at {entry['checkpoints_below']} of {len(entry['mean'])})"
                if entry["never_below_uniform"] is False
                else ""
            )
            if "worst_gap" in entry
            else ""
        )
        auc_gap = f"{entry['auc_gap']:+.3f}" if "auc_gap" in entry else ""
        print(
            f"    {name:26s} {('-' if reach is None else f'{reach:g}'):>17s} "
            f"{('' if saving is None else f'{saving:.0%}'):>7s} {entry['auc']:.3f} {auc_gap:>7s}"
            f"  {gap}",
            flush=True,
        )


def svg_plot(results: list[dict], path: Path) -> None:
    """Accuracy against labels per set: the mean over seeds with a band of one standard
    error, per mode; the target as a dashed line. Plain SVG (no plotting library)."""
    colours = {"uniform": "#2563eb", "before": "#9ca3af", "active-learning": "#dc2626"}
    spare = ["#16a34a", "#9333ea", "#ea580c", "#0891b2"]
    w, h, left, bottom, top, right = 420, 300, 48, 40, 28, 12
    parts = []
    for k, result in enumerate(results):
        ox = k * w
        labels = result["labels"]
        low = min(min(np.array(m["mean"]) - np.array(m["se"])) for m in result["modes"].values())
        low = max(0.0, np.floor(low * 10) / 10)
        x_max = labels[-1]

        def x(v, ox=ox, x_max=x_max):
            return ox + left + (w - left - right) * v / x_max

        def y(v, low=low):
            return top + (h - top - bottom) * (1 - (v - low) / (1 - low))

        parts.append(
            f'<text x="{ox + w / 2}" y="16" text-anchor="middle" font-size="13">'
            f"{result['set']} (full {result['full_accuracy']:.3f})</text>"
        )
        for tick in np.arange(low, 1.0001, 0.1):
            parts.append(
                f'<line x1="{x(0)}" x2="{x(x_max)}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#eee"/>'
                f'<text x="{x(0) - 4}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="10">{tick:.1f}</text>'
            )
        for tick in labels[4::5]:
            parts.append(
                f'<text x="{x(tick):.1f}" y="{h - bottom + 14}" text-anchor="middle" font-size="10">{tick}</text>'
            )
        parts.append(
            f'<text x="{ox + w / 2}" y="{h - 6}" text-anchor="middle" font-size="11">labels</text>'
            f'<line x1="{x(0)}" x2="{x(x_max)}" y1="{y(result["target"]):.1f}" '
            f'y2="{y(result["target"]):.1f}" stroke="#555" stroke-dasharray="4 3"/>'
        )
        for i, (name, entry) in enumerate(result["modes"].items()):
            colour = colours.get(name) or spare[i % len(spare)]
            mean, se = np.array(entry["mean"]), np.array(entry["se"])
            upper = " ".join(
                f"{x(a):.1f},{y(b):.1f}" for a, b in zip(labels, mean + se, strict=True)
            )
            lower = " ".join(
                f"{x(a):.1f},{y(b):.1f}"
                for a, b in reversed(list(zip(labels, mean - se, strict=True)))
            )
            parts.append(f'<polygon points="{upper} {lower}" fill="{colour}" opacity="0.15"/>')
            line = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in zip(labels, mean, strict=True))
            parts.append(
                f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="1.8"/>'
            )
            parts.append(
                f'<text x="{ox + w - right - 4}" y="{h - bottom - 8 - 14 * i}" text-anchor="end" '
                f'font-size="11" fill="{colour}">{name}</text>'
            )
    body = "\n".join(parts)
    path.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w * len(results)}" height="{h}" '
        f'font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>\n{body}\n</svg>\n'
    )


ALL_SETS = ["debian", "man", "docstrings", "digits"]
DATASETS: dict[str, DataSet] = {}


def _run(item) -> tuple[list[dict], float]:
    name, mode_name, seed, step, max_labels = item
    started = time.monotonic()
    points = simulate(DATASETS[name], mode_named(mode_name), seed, step=step, max_labels=max_labels)
    return points, time.monotonic() - started


def data_is_text(name: str) -> bool:
    return DATASETS[name].kind == "text"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="all", help=f"comma-separated of {ALL_SETS}, or all")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1"
    )
    parser.add_argument("--modes", default="uniform,before,active-learning")
    parser.add_argument("--step", type=int, default=20, help="labels between trainings")
    parser.add_argument("--max-labels", type=int, default=400)
    parser.add_argument(
        "--pool", type=int, default=1500, help="at most this many pool items per set (subsample)"
    )
    parser.add_argument(
        "--test", type=int, default=600, help="held-out items per set (at most 1/4)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel (processes)")
    args = parser.parse_args()
    out = Path(os.environ.get("BENCH_OUT") or ROOT / "bench" / "out")
    out.mkdir(parents=True, exist_ok=True)
    names = ALL_SETS if args.sets == "all" else args.sets.split(",")
    modes = [mode_named(m) for m in args.modes.split(",")]
    started_all = time.monotonic()
    # The sets are loaded (and their full-pool accuracy measured) here, then every run
    # (set, mode, seed) goes to a pool of --jobs processes, which inherit the sets.
    for name in names:
        DATASETS[name] = DataSet(name, pool=args.pool, test=args.test)
    # The image model has no options: on digits only the modes of the default model.
    set_modes = {
        name: [m for m in modes if DATASETS[name].kind == "text" or m.model == "default"]
        for name in names
    }
    full = {
        name: {
            model: DATASETS[name].full_accuracy(model)
            for model in dict.fromkeys(["default"] + [m.model for m in set_modes[name]])
        }
        for name in names
    }
    work = [
        (name, mode.name, seed, args.step, args.max_labels)
        for name in names
        for mode in set_modes[name]
        for seed in range(args.first_seed, args.first_seed + args.seeds)
    ]
    with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
        done = pool.map(_run, work, chunksize=1)
    results = []
    for name in names:
        runs: dict[str, list] = {mode.name: [] for mode in set_modes[name]}
        seconds = 0.0
        for (set_name, mode_name, _seed, *_), (points, spent) in zip(work, done, strict=True):
            if set_name == name:
                runs[mode_name].append(points)
                seconds += spent
        result = summarise(DATASETS[name], runs, full[name])
        result["cpu_seconds"] = round(seconds, 1)
        result["modes_config"] = {m.name: asdict(m) for m in set_modes[name]}
        result["text_models"] = {
            m.model: asdict(TEXT_MODELS[m.model]) for m in set_modes[name] if data_is_text(name)
        }
        results.append(result)
        report(result)
    (out / "active_learning.json").write_text(json.dumps(results, indent=1))
    svg_plot(results, out / "active_learning.svg")
    print(
        f"wrote {out / 'active_learning.json'} and {out / 'active_learning.svg'} "
        f"in {time.monotonic() - started_all:.0f} s"
    )


if __name__ == "__main__":
    main()
