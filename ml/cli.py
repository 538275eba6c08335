"""``labelhub train PROJECT_ID``: train the project's built-in model with a progress bar.

    labelhub train PROJECT_ID [--model text-classifier|image-classifier|ner] [--backend ID]
                              [--here] [--no-progress]

Without a backend yet, the first built-in model that fits the config is added. The job
is queued like the Train button's (``ml.services.training_job_create``); the command then
follows the job row, and then the prediction job that comes after it, with a bar each.
``--here`` runs both jobs in this process (no worker needed); a worker that later gets
the queued message finds them finished and does nothing.
"""

import functools
import os
import threading
import time


def add_parsers(sub) -> None:
    train = sub.add_parser("train", help="train a project's built-in model, with a progress bar")
    train.add_argument("project", type=int)
    train.add_argument("--model", default=None, help="built-in model name")
    train.add_argument("--backend", type=int, default=None, help="ML backend id")
    train.add_argument("--here", action="store_true", help="run the jobs in this process")
    train.add_argument("--no-progress", action="store_true", help="do not draw a progress bar")
    train.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait")
    train.add_argument("--data-dir", default=os.environ.get("LABELHUB_DATA_DIR"))
    train.set_defaults(handler=_train)


def _backend(project, args):
    from ml import selectors, services
    from ml.models import MLBackend

    backends = MLBackend.objects.filter(project=project)
    if args.backend is not None:
        backend = backends.filter(pk=args.backend).first()
        if backend is None:
            raise SystemExit(f"Project {project.pk} has no ML backend {args.backend}.")
        return backend
    if args.model:
        backend = backends.filter(kind="builtin", model=args.model).first()
        return backend or services.backend_create(project=project, kind="builtin", model=args.model)
    backend = backends.filter(kind="builtin").order_by("id").first()
    if backend is not None:
        return backend
    fitting = [m for m in selectors.models_for_project(project=project) if m["fits"]]
    if not fitting:
        needs = "; ".join(
            f"{m['model']} needs {m['why']}" for m in selectors.models_for_project(project=project)
        )
        raise SystemExit(f"No built-in model fits project {project.pk}: {needs}.")
    return services.backend_create(project=project, kind="builtin", model=fitting[0]["model"])


def _follow(model, job_id: int, label: str, args, worker: threading.Thread | None) -> object:
    from django.db import OperationalError, close_old_connections
    from tqdm import tqdm

    bar = tqdm(
        total=100,
        desc=label,
        unit="%",
        disable=args.no_progress,
        bar_format="{l_bar}{bar}| {n:.0f}%",
    )
    deadline = time.monotonic() + args.timeout
    try:
        while True:
            try:
                job = model.objects.get(pk=job_id)
            except OperationalError:
                # SQLite's shared-cache memory database (the test suite's) refuses a
                # read while the job's thread writes that table; the next poll reads.
                time.sleep(0.2)
                continue
            bar.update(max(0.0, job.progress * 100 - bar.n))
            if job.is_finished and (worker is None or not worker.is_alive()):
                return job
            if time.monotonic() > deadline:
                raise SystemExit(f"{label}: still {job.status} after {args.timeout:g} s")
            time.sleep(0.2)
            close_old_connections()
    finally:
        bar.close()


def _run_here(fn, job_id: int) -> threading.Thread:
    from django.db import connection

    def run() -> None:
        try:
            fn(job_id=job_id)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _train(args) -> int:
    from django.core.exceptions import ObjectDoesNotExist
    from rest_framework.exceptions import APIException

    from labelhub import jobs
    from ml.models import PredictionJob, TrainingJob
    from ml.services import training_job_create
    from projects.models import Project

    try:
        project = Project.objects.get(pk=args.project)
    except ObjectDoesNotExist:
        raise SystemExit(f"No project {args.project}.") from None
    try:
        backend = _backend(project, args)
        job = training_job_create(backend=backend, queue=not args.here)
    except APIException as exc:
        raise SystemExit(f"Cannot train: {exc.detail}") from None
    print(f"Training {backend} (backend {backend.pk}), job {job.pk}, version {job.model_version}")
    worker = (
        _run_here(functools.partial(jobs.job_run, kind="training"), job.pk) if args.here else None
    )
    job = _follow(TrainingJob, job.pk, "training", args, worker)
    if job.status != "completed":
        print(f"Training failed: {job.error}")
        return 1
    print(f"Trained on {job.annotations_used} annotations: {job.metrics}")
    prediction = PredictionJob.objects.filter(backend=backend).order_by("-id").first()
    if prediction is not None:
        worker = (
            _run_here(functools.partial(jobs.job_run, kind="prediction"), prediction.pk)
            if args.here
            else None
        )
        prediction = _follow(PredictionJob, prediction.pk, "predicting", args, worker)
        print(
            f"Predictions: {prediction.written} written, {prediction.dropped} dropped ({prediction.status})"
        )
        if prediction.status != "completed":
            print(prediction.error)
            return 1
    return 0
