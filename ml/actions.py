"""The Data Manager action ``retrieve_tasks_predictions``, as in Label Studio: queue a
prediction job, for the selected tasks, with each of the project's models that can
predict (a trained built-in model, or a remote backend)."""

from django.db.models import QuerySet

from datamanager.actions import action
from ml.models import MLBackend

MAX_SELECTED = 1_000_000


@action(
    "retrieve_tasks_predictions",
    "Retrieve predictions",
    order=95,
    dialog="Send the selected tasks to the project's ML models and store their predictions.",
)
def retrieve_tasks_predictions(project, queryset: QuerySet, **params) -> dict:
    from ml.services import prediction_job_create

    ids = list(queryset.order_by("id").values_list("id", flat=True)[:MAX_SELECTED])
    jobs, followed = [], []
    for backend in MLBackend.objects.filter(project=project).order_by("id"):
        if backend.kind == MLBackend.Kind.BUILTIN and backend.current_job_id is None:
            continue
        jobs.append(prediction_job_create(backend=backend, task_ids=ids).pk)
        followed.append({"id": jobs[-1], "backend": backend.pk})
    detail = (
        f"Retrieving predictions for {len(ids)} tasks (jobs {', '.join(map(str, jobs))})"
        if jobs
        else "No ML model can predict yet: add a backend or train a built-in model"
    )
    # ``prediction_jobs``: where the Data Manager follows each job's progress
    # (``/api/ml/{backend}/prediction-jobs/``).
    return {
        "processed_items": len(ids) if jobs else 0,
        "detail": detail,
        "jobs": jobs,
        "prediction_jobs": followed,
    }
