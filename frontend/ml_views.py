"""The ML page, ``/projects/{id}/ml``: backends and their health, the Train button with
a live progress bar, model versions with metrics and training sizes, and the project's
learning curve. The page reads and writes through the ``/api/ml/`` endpoints (ml.api)."""

from django.shortcuts import render

from frontend.csp import csp
from frontend.views import project_nav, project_page
from ml import selectors
from ml.api import backend_dict, job_dict
from projects import permissions as perms


@csp()
@project_page(perms.MANAGE)
def ml_page(request, project):
    backends = list(selectors.backends_for_project(project=project))
    jobs = {
        backend.pk: [job_dict(job) for job in selectors.jobs_for_backend(backend=backend)[:20]]
        for backend in backends
    }
    state = {
        "project": project.pk,
        "backends": [backend_dict(backend) for backend in backends],
        "jobs": jobs,
        "models": selectors.models_for_project(project=project),
        "curve": [
            {
                **point,
                "finished_at": point["finished_at"].isoformat() if point["finished_at"] else None,
            }
            for point in selectors.learning_curve(project=project)
        ],
        "al": selectors.al_report(project=project),
        "min_annotations": project.min_annotations_to_start_training,
        "annotations": project.total_annotations_number,
    }
    return render(
        request,
        "frontend/ml.html",
        {"project": project, "state": state, **project_nav(request.user, project, "ml")},
    )
