"""What the orphan check of a config edit costs (``annotations.selectors.
label_config_orphans``: one GROUP BY over the unpacked result lists).

Builds a text project with ``--annotations`` annotations (three choice values, one
region each, plus a NER span in every tenth) and ``--predictions`` predictions with
bulk inserts, then times the check of three edits ``--repeat`` times each and prints the
medians: renaming the choices control (orphans every row), dropping the NER label "PER"
(in one row of ten) and adding a choice (orphans nothing). Run it on a database of its own:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/labelhub_bench \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/labelhub_bench \\
        .venv/bin/python bench/config_orphans_bench.py --annotations 1000000
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
os.environ.setdefault("LABELHUB_DATA_DIR", tempfile.mkdtemp(prefix="labelhub-orphans-bench-"))

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402

from annotations.models import Annotation, Prediction  # noqa: E402
from annotations.selectors import label_config_orphans  # noqa: E402
from projects.services import project_create  # noqa: E402
from tasks.models import Task  # noqa: E402

CONFIG = """<View><Text name="text" value="$text"/>
<Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/>
<Choice value="Neutral"/></Choices>
<Labels name="ner" toName="text"><Label value="PER"/><Label value="ORG"/></Labels></View>"""
CHOICES = ["Positive", "Negative", "Neutral"]


def result(i: int) -> list[dict]:
    items = [
        {
            "id": f"c{i}",
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [CHOICES[i % 3]]},
        }
    ]
    if i % 10 == 0:
        items.append(
            {
                "id": f"n{i}",
                "from_name": "ner",
                "to_name": "text",
                "type": "labels",
                "value": {"start": 0, "end": 4, "labels": ["PER"]},
            }
        )
    return items


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--annotations", type=int, default=100_000)
    parser.add_argument("--predictions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    user, _ = get_user_model().objects.get_or_create(
        username="bench@example.com", defaults={"email": "bench@example.com"}
    )
    project = project_create(user=user, title="orphans bench", label_config=CONFIG)
    batch = 10_000
    for start in range(0, args.annotations, batch):
        n = min(batch, args.annotations - start)
        tasks = Task.objects.bulk_create(
            [Task(project=project, data={"text": "Anna works here"}) for _ in range(n)]
        )
        Annotation.objects.bulk_create(
            [
                Annotation(task=t, project=project, completed_by=user, result=result(start + k))
                for k, t in enumerate(tasks)
            ]
        )
        if start < args.predictions:
            Prediction.objects.bulk_create(
                [
                    Prediction(task=t, project=project, result=result(start + k))
                    for k, t in enumerate(tasks[: max(0, args.predictions - start)])
                ]
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    edits = {
        "rename the choices control": CONFIG.replace('name="sentiment"', 'name="sentiment2"'),
        "drop the NER label PER": CONFIG.replace('<Label value="PER"/>', ""),
        "add a choice": CONFIG.replace("</Choices>", '<Choice value="Mixed"/></Choices>'),
    }
    print(f"{connection.vendor}: {args.annotations} annotations, {args.predictions} predictions")
    for name, config in edits.items():
        times, orphans = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            orphans = label_config_orphans(project=project, label_config=config)
            times.append(time.perf_counter() - started)
        print(
            f"  {name}: median {statistics.median(times):.3f} s"
            f" (min {min(times):.3f}, max {max(times):.3f}, n={args.repeat})"
        )
        for orphan in orphans:
            print("    ", orphan["message"])


if __name__ == "__main__":
    main()
