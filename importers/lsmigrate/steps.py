"""The migration's built-in step: Data Manager tabs. Imported by ``service`` (which
registers it); other apps register their own steps in ``labelhub.migration_steps``."""

from datamanager.models import View
from datamanager.services import view_data_check
from importers.lsmigrate.client import MigrationError
from importers.lsmigrate.report import digest
from labelhub import migration_steps
from labelhub.errors import ApiError


def views_copy(ctx, ls_project: dict, project) -> int:
    """Label Studio's tabs (``/api/dm/views/``): title, order, filters, columns and
    ordering live in the view's ``data`` in both; Label Studio also keeps the ordering
    beside it, which fills ``data.ordering`` when that is missing."""
    copied = 0
    for item in ctx.get("/api/dm/views/", project=ls_project["id"]):
        data = dict(item.get("data") or {})
        if not data.get("ordering") and item.get("ordering"):
            data["ordering"] = item["ordering"]
        order = item.get("order") or 0
        stamp = digest([data, order])
        found = ctx.known("view", item["id"])
        if found and found[1] == stamp and View.objects.filter(pk=found[0]).exists():
            continue
        try:
            data = view_data_check(data)
        except ApiError as exc:
            raise MigrationError(
                f'project "{ls_project.get("title")}" (Label Studio id {ls_project["id"]}), '
                f'tab "{data.get("title")}" (id {item["id"]}): {exc.detail}'
            ) from None
        view = View.objects.filter(pk=found[0], project=project).first() if found else None
        if view is None:
            view = View.objects.create(
                project=project, user_id=ctx.user_id(item.get("user")), data=data, order=order
            )
        else:
            View.objects.filter(pk=view.pk).update(data=data, order=order)
        ctx.remember("view", item["id"], view.pk, stamp)
        copied += 1
    return copied


migration_steps.register(migration_steps.Step(name="views", run=views_copy, order=10))
