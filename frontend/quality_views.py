"""The quality page: ``/projects/{id}/quality``.

Every member may open it. Admins and reviewers see the whole project (charts, the
annotator table with its CSV, the pairwise heat map); annotators get "My performance",
their own row and their own daily counts. The page is static markup plus
``frontend/quality.js``, which reads ``GET /api/projects/{id}/quality/`` (and the matrix
and histogram) and draws with Chart.js (``scripts/fetch_chartjs.sh``); no inline script,
so the default CSP holds.
"""

from django.shortcuts import render

from frontend.csp import csp
from frontend.views import project_nav, project_page
from projects import permissions as perms


@csp()
@project_page(perms.VIEW)
def quality_page(request, project):
    everyone = perms.can(request.user, project, perms.READ_ALL_ANNOTATIONS)
    page = {
        "project": project.pk,
        "user": request.user.pk,
        "everyone": everyone,
        "api": f"/api/projects/{project.pk}/quality/",
        "data_manager": (
            f"/projects/{project.pk}/data"
            if perms.can(request.user, project, perms.DATA_MANAGER)
            else None
        ),
    }
    return render(
        request,
        "frontend/quality.html",
        {
            "project": project,
            "everyone": everyone,
            "page": page,
            **project_nav(request.user, project, "quality"),
        },
    )
