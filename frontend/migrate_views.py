"""``/projects/migrate``: the staff page that moves a running Label Studio in (the
background job in ``importers.lsmigrate.jobs``, created in ``importers.lsmigrate.service``), with a progress bar."""

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from frontend.csp import csp
from frontend.views import _error_page
from importers.lsmigrate.service import job_create, job_state
from importers.models import MigrationJob
from labelhub.errors import ApiError


def _project_ids(text: str) -> list[int] | None:
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        return None


@csp()
@login_required
@require_http_methods(["GET", "POST"])
def migrate_page(request):
    if not request.user.is_staff:
        return _error_page(request, 403, "Only staff can move a Label Studio instance in.")
    error = ""
    values = {"url": "", "projects": "", "dry_run": False}
    if request.method == "POST":
        values = {
            "url": request.POST.get("url", "").strip(),
            "projects": request.POST.get("projects", ""),
            "dry_run": bool(request.POST.get("dry_run")),
        }
        ids = _project_ids(values["projects"])
        if ids is None:
            error = "Projects: give Label Studio project ids separated by commas, e.g. 1,4."
        else:
            try:
                with transaction.atomic():
                    job = job_create(
                        user=request.user,
                        url=values["url"],
                        token=request.POST.get("token", ""),
                        project_ids=ids,
                        dry_run=values["dry_run"],
                    )
            except ApiError as exc:
                error = str(exc.detail)
            else:
                return redirect(f"/projects/migrate?job={job.pk}")
    job = None
    if request.GET.get("job", "").isdigit():
        job = MigrationJob.objects.filter(pk=int(request.GET["job"])).first()
    return render(
        request,
        "frontend/migrate.html",
        {
            "values": values,
            "error": error,
            "job": job_state(job) if job else None,
            "jobs": MigrationJob.objects.order_by("-id")[:10],
        },
    )


@login_required
@require_http_methods(["GET"])
def migrate_status(request, pk: int):
    if not request.user.is_staff:
        return JsonResponse({"detail": "Only staff can see migrations."}, status=403)
    job = MigrationJob.objects.filter(pk=pk).first()
    if job is None:
        return JsonResponse({"detail": "Not found."}, status=404)
    return JsonResponse(job_state(job))
