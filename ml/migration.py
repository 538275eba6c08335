"""The ML backends step of the Label Studio migration (registered in ``MlConfig.ready``):
each backend's URL and settings; the basic-auth password cannot be read back from
Label Studio, so the admin is told to enter it again."""

import hashlib

import orjson

from ml.models import MLBackend

FIELDS = ("url", "title", "description", "is_interactive", "basic_auth_user", "timeout")


def ml_backends_copy(ctx, ls_project: dict, project) -> int:
    copied = 0
    for item in ctx.get("/api/ml/", project=ls_project["id"]):
        values = {name: item[name] for name in FIELDS if item.get(name) is not None}
        values["title"] = (values.get("title") or "")[:255]
        values["basic_auth_user"] = (values.get("basic_auth_user") or "")[:255]
        if item.get("auth_method") in MLBackend.AuthMethod.values:
            values["auth_method"] = item["auth_method"]
        if isinstance(item.get("extra_params"), dict):
            values["extra_params"] = item["extra_params"]
        stamp = hashlib.sha256(orjson.dumps(values, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]
        found = ctx.known("ml_backend", item["id"])
        if found and found[1] == stamp and MLBackend.objects.filter(pk=found[0]).exists():
            continue
        backend = MLBackend.objects.filter(pk=found[0], project=project).first() if found else None
        if backend is None:
            backend = MLBackend.objects.filter(project=project, url=values.get("url", "")).first()
        if backend is None:
            backend = MLBackend.objects.create(
                project=project, kind=MLBackend.Kind.REMOTE, **values
            )
        else:
            MLBackend.objects.filter(pk=backend.pk).update(**values)
        ctx.remember("ml_backend", item["id"], backend.pk, stamp)
        if values.get("auth_method") == "BASIC_AUTH":
            ctx.note(
                f'Project "{project.title}" (LabelHub {project.pk}): enter the basic-auth '
                f"password of the ML backend {values.get('url')} again (Label Studio does not "
                "give it out)."
            )
        copied += 1
    return copied
