"""The labels step of the Label Studio migration (registered in ``ProjectsConfig.ready``):
Label Studio's custom labels (``/api/labels``) and their links to the project
(``/api/label_links``), with value, title, description, approval and author.

Label Studio shares a label across its organization; here a label belongs to its
creator (titles unique per creator), so a label linked to several projects is copied
once (the ``label`` kind is instance-wide in the mapping) and linked to each. A label
whose author already has one of the same title here is reused, as ``labels_create``
does. A label LabelHub would refuse is listed for the admin, not copied.
"""

import hashlib

import orjson

from labelhub.errors import ApiError
from projects.labels import value_check
from projects.models import Label, LabelLink

TITLE_MAX = 2048


def _stamp(value) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def _ls_id(value):
    return value.get("id") if isinstance(value, dict) else value


def _labels(ctx) -> dict:
    """Label Studio's labels by id, read once per run."""
    if "labels" not in ctx.cache:
        ctx.cache["labels"] = {item["id"]: item for item in ctx.pages("/api/labels/")}
    return ctx.cache["labels"]


def _label(ctx, item: dict) -> tuple[Label, bool]:
    """The LabelHub label for Label Studio's ``item``, made or brought up to date; and
    whether anything was written."""
    title = str(item.get("title") or "")
    if not title.strip() or len(title) > TITLE_MAX:
        raise ApiError(f"title must be 1 to {TITLE_MAX} characters")
    value = value_check(item.get("value"))
    author = ctx.user_id(_ls_id(item.get("created_by"))) or ctx.user.pk
    approver = ctx.user_id(_ls_id(item.get("approved_by"))) if item.get("approved_by") else None
    fields = {
        "value": value,
        "title": title,
        "description": item.get("description"),
        "approved": bool(item.get("approved")),
        "approved_by_id": approver,
    }
    stamp = _stamp(fields)
    found = ctx.known("label", item["id"])
    label = Label.objects.filter(pk=found[0]).first() if found else None
    if label is not None and found[1] == stamp:
        return label, False
    if label is None:
        label = Label.objects.filter(created_by_id=author, title=title).first()
        if label is not None:  # the author's label of that title: reused as it is
            ctx.remember("label", item["id"], label.pk, stamp)
            return label, False
        label = Label.objects.create(created_by_id=author, **fields)
    else:
        clash = Label.objects.filter(created_by_id=label.created_by_id, title=title)
        if clash.exclude(pk=label.pk).exists():
            raise ApiError(f'its author already has another label titled "{title[:80]}"')
        for name, field_value in fields.items():
            setattr(label, name, field_value)
        label.save()
    ctx.remember("label", item["id"], label.pk, stamp)
    return label, True


def labels_copy(ctx, ls_project: dict, project) -> int:
    links = [
        link
        for link in ctx.pages("/api/label_links/", project=ls_project["id"])
        if _ls_id(link.get("project")) == ls_project["id"]
    ]
    if not links:
        return 0
    labels = _labels(ctx)
    copied = 0
    for link in links:
        item = (
            link["label"] if isinstance(link.get("label"), dict) else labels.get(link.get("label"))
        )
        where = f'Project "{project.title}" (LabelHub {project.pk})'
        if item is None:
            ctx.note(f"{where}: label link {link['id']} names a label this token cannot read")
            continue
        try:
            label, written = _label(ctx, item)
        except ApiError as exc:
            ctx.note(f'{where}: label "{str(item.get("title"))[:80]}" not copied: {exc.detail}')
            continue
        copied += written
        from_name = str(link.get("from_name") or "")[:TITLE_MAX]
        stamp = _stamp([label.pk, from_name])
        found = ctx.known("label_link", link["id"])
        if found and found[1] == stamp:
            continue
        row, made = LabelLink.objects.get_or_create(
            project=project, label=label, defaults={"from_name": from_name}
        )
        if not made and row.from_name != from_name:
            LabelLink.objects.filter(pk=row.pk).update(from_name=from_name)
        ctx.remember("label_link", link["id"], row.pk, stamp)
        copied += 1
    return copied
