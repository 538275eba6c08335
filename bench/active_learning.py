"""Does active learning save labels? ``active-learning`` against ``uniform`` sampling.

For each data set, mode and seed it creates a LabelHub project with a built-in model and
simulates an annotator through the HTTP API (the real URL routing, authentication,
serializers and services, in process through the test client): ask for the next task
(``GET /api/projects/{id}/next/``), submit its true label (``POST
/api/tasks/{id}/annotations/``). Every ``--step`` labels it trains the model (``POST
/api/ml/{id}/train``: Celery in eager mode, so training and the prediction job that
refreshes the active-learning order finish before the next label) and measures
accuracy on a held-out test set through ``POST /api/projects/{id}/predict``.

Data sets:
- ``digits``: scikit-learn's bundled 8x8 digits written out as PNG files and imported
  as image tasks (uploaded media), with the image classifier;
- ``text``: news-like topic classification built here, with the text classifier: eight
  topics of skewed sizes (28% down to 5%, as real topic sets are), each with its own
  vocabulary drawn with Zipf frequencies (a few common words, many rare ones), words
  that two topics share (tax, study, fitness, data ...), general news words and filler,
  documents of 8 to 24 words;
- ``text-balanced``: the first text set, four balanced topics from short templates.
  One document in six holds as many words of a second topic as of its own, so its
  label is a coin flip the model cannot learn; uncertainty sampling spends up to half
  of its labels there (bench/README.md).

The reference "full" accuracy is the same model trained on the whole labeled pool.
Per mode it reports the labels needed to reach 95% of it (median over seeds), and
writes ``active_learning.json`` (every point) and ``active_learning.png`` (accuracy
against labels, median with min-max bands) to ``$BENCH_OUT`` (default bench/out).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/labelhub_bench \\
        .venv/bin/python bench/active_learning.py --seeds 5
"""

import argparse
import base64
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
os.environ.setdefault("LABELHUB_DATA_DIR", tempfile.mkdtemp(prefix="labelhub-al-bench-"))

import django  # noqa: E402
from django.apps import apps as _apps  # noqa: E402

if not _apps.ready:
    django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from PIL import Image  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from annotations.services import project_delete  # noqa: E402
from ml.builtin import MODELS  # noqa: E402
from projects.label_config import parse_label_config  # noqa: E402
from projects.services import project_create  # noqa: E402

DIGITS_CONFIG = (
    '<View><Image name="image" value="$image"/><Choices name="digit" toName="image">'
    + "".join(f'<Choice value="{d}"/>' for d in range(10))
    + "</Choices></View>"
)


def _text_config(topics) -> str:
    return (
        '<View><Text name="text" value="$text"/><Choices name="topic" toName="text">'
        + "".join(f'<Choice value="{t}"/>' for t in topics)
        + "</Choices></View>"
    )


TOPICS = {
    "sport": "match goal team coach league season player score win referee stadium cup".split(),
    "finance": "bank market stock price fund loan rate profit invest share trade budget".split(),
    "science": "study cell theory experiment data lab energy planet gene physics research atom".split(),
    "food": "recipe cook taste bread cheese soup dinner flavor kitchen bake sauce spice".split(),
}
SHARED = "report new big week people city year first record team market data".split()
FILLER = "the a of and in on this that with for was is it very more after about".split()
TEXT_CONFIG = _text_config(TOPICS)
NEWS_TOPICS = {
    "sport": "match goal team coach league season player score win referee stadium cup "
    "tournament striker defender final champion title transfer injury fitness training "
    "squad keeper penalty",
    "finance": "bank market stock price fund loan rate profit invest share trade budget tax "
    "inflation bond dividend earnings investor currency debt revenue quarter growth merger",
    "science": "study cell theory experiment data lab energy planet gene physics research atom "
    "molecule telescope species fossil climate particle protein orbit quantum sample journal "
    "discovery",
    "food": "recipe cook taste bread cheese soup dinner flavor kitchen bake sauce spice chef "
    "restaurant menu dessert wine vegetable garlic oven butter salad grill breakfast",
    "politics": "election vote minister party parliament law policy campaign senate government "
    "budget tax reform president coalition debate candidate poll council treaty mayor bill "
    "opposition",
    "health": "doctor patient hospital disease vaccine treatment symptom nurse clinic therapy "
    "diet fitness injury virus health medicine surgery study protein sleep mental care cell drug",
    "tech": "software app phone computer chip startup data cloud network device robot code "
    "internet user update security platform launch server battery screen algorithm privacy "
    "energy",
    "travel": "flight hotel beach trip tourist airport museum island tour visa passport cruise "
    "holiday resort guide luggage train booking journey mountain city restaurant festival map",
}
NEWS_WORDS = {topic: words.split() for topic, words in NEWS_TOPICS.items()}
NEWS_SHARES = [0.28, 0.2, 0.14, 0.11, 0.09, 0.07, 0.06, 0.05]  # skewed, largest first
NEWS_GENERAL = (
    "report new big week people city year first record today said says time group local "
    "country world plan help open show make look public early late high low start end change "
    "part long major former small best top news official result day month number area home "
    "team market data family last"
).split()
NEWS_FILLER = FILLER + "to at by from as an its has have will".split()
NEWS_CONFIG = _text_config(NEWS_TOPICS)


# --------------------------------------------------------------------------- data sets


def digits_dataset(seed: int = 0, pool: int | None = None, test: int = 400):
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.RandomState(seed).permutation(len(digits.target))
    images = (digits.images[order] * (255 / 16)).astype(np.uint8)
    labels = [str(int(t)) for t in digits.target[order]]
    pool = pool or len(labels) - test
    return images[:pool], labels[:pool], images[pool : pool + test], labels[pool : pool + test]


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image, mode="L").resize((32, 32), Image.Resampling.NEAREST).save(buffer, "PNG")
    return buffer.getvalue()


def text_dataset(seed: int = 0, pool: int = 1600, test: int = 400):
    """Short documents: a few topic words, shared words, filler, and for one in five a
    misleading word from another topic."""
    rng = random.Random(seed)
    names = sorted(TOPICS)
    texts, labels = [], []
    for _ in range(pool + test):
        topic = rng.choice(names)
        words = rng.sample(TOPICS[topic], rng.randint(1, 3)) + rng.sample(SHARED, 2)
        words += rng.sample(FILLER, 5)
        if rng.random() < 0.35:
            other = rng.choice([n for n in names if n != topic])
            words += rng.sample(TOPICS[other], 1)
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(topic)
    return texts[:pool], labels[:pool], texts[pool:], labels[pool:]


def _zipf(rng: random.Random, words: list[str], exponent: float) -> str:
    return rng.choices(words, [1 / (rank + 1) ** exponent for rank in range(len(words))])[0]


def news_dataset(seed: int = 0, pool: int = 1600, test: int = 400):
    """News-like documents: each word is, by chance, a word of the document's topic
    (18%), of any topic (5%: the odd mention), a general news word (32%) or filler. A
    document with no word of its topic gets one."""
    rng = random.Random(seed)
    names = list(NEWS_WORDS)
    texts, labels = [], []
    for _ in range(pool + test):
        topic = rng.choices(names, NEWS_SHARES)[0]
        words = []
        for _ in range(rng.randint(8, 24)):
            draw = rng.random()
            if draw < 0.18:
                words.append(_zipf(rng, NEWS_WORDS[topic], 1.1))
            elif draw < 0.23:
                words.append(_zipf(rng, NEWS_WORDS[rng.choice(names)], 1.1))
            elif draw < 0.55:
                words.append(_zipf(rng, NEWS_GENERAL, 0.8))
            else:
                words.append(rng.choice(NEWS_FILLER))
        if not set(words) & set(NEWS_WORDS[topic]):
            words.append(_zipf(rng, NEWS_WORDS[topic], 1.1))
        texts.append(" ".join(words))
        labels.append(topic)
    return texts[:pool], labels[:pool], texts[pool:], labels[pool:]


# kind: (labeling config, control, object, built-in model)
SETS = {
    "digits": (DIGITS_CONFIG, "digit", "image", "image-classifier"),
    "text": (NEWS_CONFIG, "topic", "text", "text-classifier"),
    "text-balanced": (TEXT_CONFIG, "topic", "text", "text-classifier"),
}


def dataset(kind: str, pool: int | None = None):
    if kind == "digits":
        return digits_dataset(pool=pool)
    if kind == "text":
        return news_dataset(pool=pool or 1600)
    return text_dataset(pool=pool or 1600)


# --------------------------------------------------------------------------- one run


class Run:
    """A project with one kind of data, a built-in model and an annotator's client."""

    def __init__(self, *, kind: str, mode: str, seed: int, pool_data, pool_labels, step: int):
        User = get_user_model()
        self.user, _ = User.objects.get_or_create(
            username="al-bench@example.com",
            defaults={"email": "al-bench@example.com", "is_staff": True},
        )
        token, _ = Token.objects.get_or_create(user=self.user)
        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        self.kind, self.mode, self.seed = kind, mode, seed
        config, self.control, self.object, model = SETS[kind]
        self.project = project_create(
            user=self.user,
            title=f"AL bench {kind} {mode} {seed}",
            label_config=config,
            sampling=mode,
            min_annotations_to_start_training=step,
            al_first_batch_size=step,
            retrain_every=0,  # the bench trains at every checkpoint itself
        )
        records = []
        if kind == "digits":
            folder = Path(settings.MEDIA_ROOT) / "upload" / str(self.project.pk)
            folder.mkdir(parents=True, exist_ok=True)
            for i, image in enumerate(pool_data):
                (folder / f"digit-{i}.png").write_bytes(png_bytes(image))
                records.append(
                    {
                        "data": {"image": f"/data/upload/{self.project.pk}/digit-{i}.png"},
                        "meta": {"i": i},
                    }
                )
        else:
            records = [{"data": {"text": t}, "meta": {"i": i}} for i, t in enumerate(pool_data)]
        response = self.client.post(
            f"/api/projects/{self.project.pk}/import", records, format="json"
        )
        assert response.status_code == 201, response.content
        self.truth = pool_labels
        backend = self.client.post(
            "/api/ml/",
            {"project": self.project.pk, "kind": "builtin", "model": model},
            format="json",
        )
        assert backend.status_code == 201, backend.content
        self.backend = backend.json()["id"]
        self.rng = random.Random(seed)

    def label_one(self) -> bool:
        response = self.client.get(f"/api/projects/{self.project.pk}/next/")
        if response.status_code == 404:
            return False
        task = response.json()
        truth = self.truth[task["meta"]["i"]]
        result = [
            {
                "from_name": self.control,
                "to_name": self.object,
                "type": "choices",
                "value": {"choices": [truth]},
            }
        ]
        answer = self.client.post(
            f"/api/tasks/{task['id']}/annotations/", {"result": result}, format="json"
        )
        assert answer.status_code == 201, answer.content
        return True

    def train(self) -> dict:
        response = self.client.post(f"/api/ml/{self.backend}/train")
        assert response.status_code == 201, response.content
        job = self.client.get(f"/api/ml/{self.backend}/jobs/{response.json()['job']}/").json()
        assert job["status"] == "completed", job
        return job

    def accuracy(self, test_data, test_labels) -> float:
        right = 0
        for start in range(0, len(test_data), 500):
            chunk = test_data[start : start + 500]
            if self.kind == "digits":
                datas = [
                    {"image": "data:image/png;base64," + base64.b64encode(png_bytes(im)).decode()}
                    for im in chunk
                ]
            else:
                datas = [{"text": t} for t in chunk]
            response = self.client.post(
                f"/api/projects/{self.project.pk}/predict",
                {"tasks": [{"data": d} for d in datas]},
                format="json",
            )
            assert response.status_code == 200, response.content
            for prediction, truth in zip(
                response.json()["predictions"], test_labels[start:], strict=False
            ):
                right += bool(prediction) and prediction["result"][0]["value"]["choices"] == [truth]
        return right / len(test_data)

    def close(self) -> None:
        project_delete(project=self.project)


def simulate(*, kind, mode, seed, data, budgets, step) -> list[dict]:
    """Label up to max(budgets) tasks; accuracy at each budget. The stream's random
    picks (uniform mode, the first batch, the epsilon share) draw from the global
    ``random``, seeded here so a run repeats."""
    random.seed(seed)
    pool_data, pool_labels, test_data, test_labels = data
    run = Run(
        kind=kind, mode=mode, seed=seed, pool_data=pool_data, pool_labels=pool_labels, step=step
    )
    points = []
    try:
        labeled = 0
        for budget in budgets:
            while labeled < budget and run.label_one():
                labeled += 1
            run.train()
            points.append({"labels": labeled, "accuracy": run.accuracy(test_data, test_labels)})
    finally:
        run.close()
    return points


def full_accuracy(kind: str, data) -> float:
    pool_data, pool_labels, test_data, test_labels = data
    config, _control, _object, name = SETS[kind]
    model_class = MODELS[name]
    model = model_class(model_class.spec_for(parse_label_config(config)))
    if kind == "digits":
        from ml.builtin.image import image_features

        def inputs(images):
            return np.vstack(
                [image_features(Image.open(io.BytesIO(png_bytes(im)))) for im in images]
            )

        model.fit(inputs(pool_data), pool_labels)
        return model.evaluate(inputs(test_data), test_labels)["accuracy"]
    model.fit(list(pool_data), pool_labels)
    return model.evaluate(list(test_data), test_labels)["accuracy"]


def labels_to_reach(points: list[dict], target: float) -> int | None:
    for point in points:
        if point["accuracy"] >= target:
            return point["labels"]
    return None


def eager_jobs():
    from labelhub.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


def compare(*, kind, seeds, budgets, step, data, modes=("uniform", "active-learning")) -> dict:
    full = full_accuracy(kind, data)
    target = 0.95 * full
    curves: dict[str, list] = {mode: [] for mode in modes}
    for seed in seeds:
        for mode in curves:
            started = time.monotonic()
            points = simulate(
                kind=kind, mode=mode, seed=seed, data=data, budgets=budgets, step=step
            )
            curves[mode].append(
                {"seed": seed, "points": points, "seconds": round(time.monotonic() - started, 1)}
            )
            print(
                f"{kind:7s} {mode:16s} seed {seed}: "
                + " ".join(f"{p['labels']}:{p['accuracy']:.3f}" for p in points),
                flush=True,
            )
    reach = {
        mode: [labels_to_reach(run["points"], target) for run in runs]
        for mode, runs in curves.items()
    }
    medians = {}
    for mode, values in reach.items():
        known = [v if v is not None else float("inf") for v in values]
        medians[mode] = statistics.median(known)
    saving = (
        1 - medians["active-learning"] / medians["uniform"]
        if len(medians) == 2 and medians["uniform"] not in (0, float("inf"))
        else None
    )
    return {
        "kind": kind,
        "full_accuracy": full,
        "target": target,
        "budgets": budgets,
        "labels_to_target": reach,
        "median_labels_to_target": {
            k: (None if v == float("inf") else v) for k, v in medians.items()
        },
        "saving": saving,
        "curves": curves,
    }


def from_logs(paths: list[Path], pool: int | None = None) -> list[dict]:
    """Results from printed run lines (``KIND MODE seed N: labels:accuracy ...``), keeping
    the seeds that finished in both modes."""
    runs: dict = {}
    for path in paths:
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) < 5 or parts[2] != "seed" or parts[0] not in SETS:
                continue
            kind, mode, seed = parts[0], parts[1], int(parts[3].rstrip(":"))
            points = [
                {"labels": int(a), "accuracy": float(b)}
                for a, b in (item.split(":") for item in parts[4:])
            ]
            runs.setdefault(kind, {}).setdefault(seed, {})[mode] = points
    results = []
    for kind, seeds in runs.items():
        done = sorted(s for s, modes in seeds.items() if len(modes) == 2)
        if not done:
            continue
        data = dataset(kind, pool=pool)
        full = full_accuracy(kind, data)
        target = 0.95 * full
        curves = {
            mode: [{"seed": s, "points": seeds[s][mode]} for s in done]
            for mode in ("uniform", "active-learning")
        }
        reach = {
            mode: [labels_to_reach(r["points"], target) for r in rs] for mode, rs in curves.items()
        }
        medians = {
            mode: statistics.median([v if v is not None else float("inf") for v in values])
            for mode, values in reach.items()
        }
        saving = (
            1 - medians["active-learning"] / medians["uniform"]
            if medians["uniform"] not in (0, float("inf"))
            else None
        )
        results.append(
            {
                "kind": kind,
                "seeds": done,
                "full_accuracy": full,
                "target": target,
                "labels_to_target": reach,
                "median_labels_to_target": {
                    k: (None if v == float("inf") else v) for k, v in medians.items()
                },
                "saving": saving,
                "curves": curves,
            }
        )
    return results


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4.5), squeeze=False)
    for ax, result in zip(axes[0], results, strict=True):
        for mode, colour in (("uniform", "tab:blue"), ("active-learning", "tab:red")):
            runs = result["curves"].get(mode)
            if not runs:
                continue
            labels = [p["labels"] for p in runs[0]["points"]]
            matrix = np.array([[p["accuracy"] for p in run["points"]] for run in runs])
            ax.plot(labels, np.median(matrix, axis=0), color=colour, label=mode)
            ax.fill_between(labels, matrix.min(axis=0), matrix.max(axis=0), color=colour, alpha=0.2)
        ax.axhline(
            result["target"], color="grey", linestyle="--", label="95% of full-data accuracy"
        )
        last = max(p["labels"] for runs in result["curves"].values() for p in runs[0]["points"])
        reached = {
            mode: result["median_labels_to_target"].get(mode) or f"not by {last}"
            for mode in ("active-learning", "uniform")
        }
        ax.set_title(
            f"{result['kind']}: full {result['full_accuracy']:.3f}, labels to target "
            f"AL {reached['active-learning']} vs uniform {reached['uniform']}"
        )
        ax.set_xlabel("labels")
        ax.set_ylabel("held-out accuracy")
        ax.legend(loc="lower right")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seeds first-seed .. first-seed+seeds-1 (run seeds in parallel, then --from-log)",
    )
    parser.add_argument("--step", type=int, default=20)
    parser.add_argument("--max-labels", type=int, default=400)
    parser.add_argument("--sets", default="digits,text")
    parser.add_argument(
        "--modes",
        default="uniform,active-learning",
        help="run one mode only to run the modes in parallel, then --from-log",
    )
    parser.add_argument("--pool", type=int, default=None, help="pool size (default: all)")
    parser.add_argument(
        "--combine", nargs="+", default=None, help="JSON files of earlier runs: plot them together"
    )
    parser.add_argument(
        "--from-log",
        nargs="+",
        default=None,
        help="printed output of runs cut short: rebuild the figures from the finished runs",
    )
    args = parser.parse_args()
    out = Path(os.environ.get("BENCH_OUT") or ROOT / "bench" / "out")
    out.mkdir(parents=True, exist_ok=True)
    if args.from_log:
        results = from_logs([Path(name) for name in args.from_log], pool=args.pool)
        (out / "active_learning.json").write_text(json.dumps(results, indent=1))
        plot(results, out / "active_learning.png")
        for r in results:
            print(
                f"==> {r['kind']}: full accuracy {r['full_accuracy']:.3f}, seeds "
                f"{r['seeds']}; median labels to target: {r['median_labels_to_target']}; "
                f"saving {r['saving']}"
            )
        return
    if args.combine:
        results = [r for name in args.combine for r in json.loads(Path(name).read_text())]
        (out / "active_learning.json").write_text(json.dumps(results, indent=1))
        plot(results, out / "active_learning.png")
        print(f"wrote {out / 'active_learning.json'} and {out / 'active_learning.png'}")
        return
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    eager_jobs()
    budgets = list(range(args.step, args.max_labels + 1, args.step))
    results = []
    for kind in args.sets.split(","):
        data = dataset(kind, pool=args.pool)
        result = compare(
            kind=kind,
            seeds=list(range(args.first_seed, args.first_seed + args.seeds)),
            budgets=budgets,
            step=args.step,
            data=data,
            modes=tuple(args.modes.split(",")),
        )
        results.append(result)
        print(
            f"==> {kind}: full accuracy {result['full_accuracy']:.3f}, target {result['target']:.3f}; "
            f"median labels to target: active-learning {result['median_labels_to_target'].get('active-learning')}, "
            f"uniform {result['median_labels_to_target'].get('uniform')}; saving {result['saving']}",
            flush=True,
        )
    (out / "active_learning.json").write_text(json.dumps(results, indent=1))
    plot(results, out / "active_learning.png")
    print(f"wrote {out / 'active_learning.json'} and {out / 'active_learning.png'}")


if __name__ == "__main__":
    main()
