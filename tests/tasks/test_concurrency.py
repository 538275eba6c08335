"""The Label Stream under concurrency: real threads, each with its own connection.

Twenty annotators pull and submit at once until nothing is left. Afterwards:

- no task was handed to two annotators while it was locked: with no lock expiring
  during the run, a task is handed out exactly ``maximum_annotations`` times, each time
  to a different annotator (every hand-out ends in a submit, or a skip that is then
  handed out again);
- no task has more than ``maximum_annotations`` annotations;
- every task is done.

The PostgreSQL runs are the real test (``SKIP LOCKED`` plus the re-check under the row
lock). The small SQLite run checks that IMMEDIATE transactions keep the same promises.
"""

import os
import subprocess
import sys
import threading
import time
from collections import defaultdict

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections

from annotations import stream
from annotations.services import annotation_create
from projects.models import ProjectMember
from projects.services import member_set, project_create
from tasks.models import Task, TaskLock
from tests.factories import TEXT_CONFIG, choice

pytestmark = pytest.mark.django_db(transaction=True)


def make_project(*, tasks: int, overlap: int, annotators: int, sampling: str = "sequential"):
    User = get_user_model()
    owner = User.objects.create_user(
        username="boss@example.com", email="boss@example.com", password="x"
    )
    project = project_create(
        user=owner,
        title="Race",
        label_config=TEXT_CONFIG,
        maximum_annotations=overlap,
        sampling=sampling,
    )
    Task.objects.bulk_create([Task(project=project, data={"text": f"t{i}"}) for i in range(tasks)])
    users = []
    for index in range(annotators):
        user = User.objects.create_user(
            username=f"ann{index}@example.com", email=f"ann{index}@example.com", password="x"
        )
        member_set(project=project, user=user, role=ProjectMember.Role.ANNOTATOR)
        users.append(user)
    return project, users


def run_annotators(project, users, *, skip_every: int = 0) -> tuple[dict, list]:
    """Each user in a thread: next, then submit (or skip), until nothing is left.

    "Nothing left for me" is final only when no one else held a task meanwhile: a task
    another annotator holds comes back if they skip it.
    """
    handouts: dict[int, list[int]] = defaultdict(list)
    errors: list[BaseException] = []
    state = {"busy": 0, "events": 0}
    record = threading.Lock()
    start = threading.Barrier(len(users))

    def work(index: int, user) -> None:
        try:
            start.wait()
            while True:
                with record:
                    before = (state["busy"], state["events"])
                task = stream.next_task(project=project, user=user)
                if task is None:
                    with record:
                        if before[0] == 0 and state["busy"] == 0 and state["events"] == before[1]:
                            return
                    time.sleep(0.005)
                    continue
                with record:
                    handouts[task.pk].append(user.pk)
                    state["busy"] += 1
                    state["events"] += 1
                skipping = skip_every and (task.pk + index) % skip_every == 0
                try:
                    annotation_create(
                        task=task,
                        user=user,
                        result=[] if skipping else choice("Positive"),
                        was_cancelled=bool(skipping),
                    )
                finally:
                    with record:
                        state["busy"] -= 1
                        state["events"] += 1
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i, u)) for i, u in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "an annotator thread hung"
    return handouts, errors


def check_outcome(
    project, users, handouts, errors, *, overlap: int, tasks: int, skip_every: int = 0
):
    assert errors == []
    from annotations.models import Annotation

    done = Annotation.objects.filter(project=project, was_cancelled=False)
    skipped = Annotation.objects.filter(project=project, was_cancelled=True)
    per_task = defaultdict(list)
    for task_id, user_id in done.values_list("task_id", "completed_by_id"):
        per_task[task_id].append(user_id)
    assert len(per_task) == tasks, "every task is done"
    for task_id, annotators in per_task.items():
        assert len(annotators) == overlap, f"task {task_id} has {len(annotators)} annotations"
        assert len(set(annotators)) == overlap, f"task {task_id} annotated twice by one user"
    for task_id, given_to in handouts.items():
        assert len(given_to) == len(set(given_to)), f"task {task_id} handed twice to one user"
        skips = skipped.filter(task_id=task_id).count()
        assert len(given_to) == overlap + skips, f"task {task_id} handed out {len(given_to)} times"
    assert not Task.objects.filter(project=project, is_labeled=False).exists()
    totals = Task.objects.filter(project=project).values_list("total_annotations", flat=True)
    assert set(totals) == {overlap}
    assert not TaskLock.objects.exists()
    project.refresh_from_db()
    assert project.total_annotations_number == overlap * tasks
    assert project.num_tasks_with_annotations == tasks
    if skip_every:
        assert skipped.exists()


@pytest.fixture
def require_postgres():
    # Fails (not skips) when run without PostgreSQL: the test is about its locking.
    assert connection.vendor == "postgresql", "this test needs DATABASE_URL pointing at PostgreSQL"


@pytest.mark.postgres
@pytest.mark.parametrize("overlap", [1, 3])
def test_twenty_annotators_on_postgres(require_postgres, overlap):
    project, users = make_project(tasks=500, overlap=overlap, annotators=20)
    handouts, errors = run_annotators(project, users, skip_every=10)
    check_outcome(project, users, handouts, errors, overlap=overlap, tasks=500, skip_every=10)


@pytest.mark.postgres
@pytest.mark.parametrize("sampling", ["uniform", "prediction-score-max"])
def test_other_samplers_on_postgres(require_postgres, sampling):
    project, users = make_project(tasks=200, overlap=2, annotators=20, sampling=sampling)
    Task.objects.filter(project=project).update(prediction_score=0.5)
    handouts, errors = run_annotators(project, users)
    check_outcome(project, users, handouts, errors, overlap=2, tasks=200)


SQLITE_SCRIPT = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from tests.tasks.test_concurrency import make_project, run_annotators, check_outcome
project, users = make_project(tasks=60, overlap=2, annotators=6)
handouts, errors = run_annotators(project, users, skip_every=7)
check_outcome(project, users, handouts, errors, overlap=2, tasks=60, skip_every=7)
print("ok", sum(len(v) for v in handouts.values()))
"""


def test_annotators_on_sqlite_file(tmp_path):
    """SQLite as `labelhub start` runs it (a WAL file, IMMEDIATE transactions), in a
    child process: the test database of pytest-django is an in-memory shared cache,
    whose table locks do not wait like the real file's do."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {
        **os.environ,
        "LABELHUB_DATA_DIR": str(tmp_path),
        "DATABASE_URL": "",
        "DJANGO_SETTINGS_MODULE": "labelhub.settings",
        "PYTHONPATH": root,
    }
    done = subprocess.run(
        [sys.executable, "-c", SQLITE_SCRIPT],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("ok")
