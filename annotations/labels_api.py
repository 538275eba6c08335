"""Label Studio's labels manager API: ``/api/labels/`` (GET lists, POST creates in bulk),
``/api/labels/<id>/``, ``/api/label_links/``, ``/api/label_links/<id>/`` and
``POST /api/labels/bulk`` (rename a label in the stored annotations).

Served from ``annotations`` because a link's ``annotations_count`` and the bulk rename
read and write annotations; the models and their rules are ``projects.labels``. Lists
page as Label Studio's ``PageNumberPagination`` does (``count``, ``next``, ``previous``,
``results``); ``?expand=links`` (labels) and ``?expand=label`` (links) nest the related
objects as Label Studio's flex fields do.
"""

from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.labels import annotations_label_rename, links_with_counts
from labelhub.errors import ApiError
from labelhub.pagination import count_next_previous, paginate
from labelhub.validation import id_list
from projects import labels
from projects import permissions as perms
from projects.accounts_selectors import ORGANIZATION_ID
from projects.models import Label, LabelLink, Project


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _expand(request) -> set[str]:
    return {
        name.strip() for name in request.query_params.get("expand", "").split(",") if name.strip()
    }


def label_fields(label: Label) -> dict:
    return {
        "id": label.pk,
        "created_at": _iso(label.created_at),
        "updated_at": _iso(label.updated_at),
        "value": label.value,
        "title": label.title,
        "description": label.description,
        "approved": label.approved,
        "created_by": label.created_by_id,
        "approved_by": label.approved_by_id,
        # The server's one organization, as Label Studio's open-source edition has.
        "organization": ORGANIZATION_ID,
    }


def link_dict(link: LabelLink, *, expand_label: bool = False) -> dict:
    out = {"id": link.pk}
    if hasattr(link, "annotations_count"):
        out["annotations_count"] = link.annotations_count
    out.update({"from_name": link.from_name, "project": link.project_id})
    out["label"] = label_fields(link.label) if expand_label else link.label_id
    return out


def label_dict(label: Label, *, visible_links: list[LabelLink], expand_links: bool) -> dict:
    links = sorted(visible_links, key=lambda link: link.pk)
    return {
        "id": label.pk,
        "links": [link_dict(link) for link in links]
        if expand_links
        else [link.pk for link in links],
        **{k: v for k, v in label_fields(label).items() if k != "id"},
        "projects": sorted({link.project_id for link in links}),
    }


def _visible_links(user, label_ids: list[int]) -> dict[int, list[LabelLink]]:
    out: dict[int, list[LabelLink]] = {pk: [] for pk in label_ids}
    for link in labels.links_visible(user=user).filter(label_id__in=label_ids):
        out[link.label_id].append(link)
    return out


def _page(request, rows, build) -> Response:
    paginator, items = paginate(request, rows)
    return Response({**count_next_previous(request, paginator, items), "results": build(items)})


class LabelListApi(APIView):
    def get(self, request):
        expand = "links" in _expand(request)

        def build(items):
            links = _visible_links(request.user, [label.pk for label in items])
            return [
                label_dict(label, visible_links=links[label.pk], expand_links=expand)
                for label in items
            ]

        return _page(request, labels.labels_visible(user=request.user), build)

    def post(self, request):
        created = labels.labels_create(user=request.user, items=request.data)
        return Response(
            [
                {
                    **label_fields(label),
                    "projects": sorted(label.links.values_list("project_id", flat=True)),
                    "project": project.pk,
                    "from_name": from_name,
                }
                for label, project, from_name in created
            ],
            status=status.HTTP_201_CREATED,
        )


class LabelDetailApi(APIView):
    def _out(self, request, label: Label) -> Response:
        links = _visible_links(request.user, [label.pk])[label.pk]
        return Response(
            label_dict(label, visible_links=links, expand_links="links" in _expand(request))
        )

    def get(self, request, pk):
        return self._out(request, labels.label_for_user(user=request.user, pk=pk))

    def patch(self, request, pk, partial: bool = True):
        label = labels.label_for_change(user=request.user, pk=pk)
        label = labels.label_update(
            label=label, user=request.user, data=request.data, partial=partial
        )
        return self._out(request, label)

    def put(self, request, pk):
        return self.patch(request, pk, partial=False)

    def delete(self, request, pk):
        labels.label_delete(label=labels.label_for_change(user=request.user, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


DATE_FILTERS = {
    "label__created_at": "label__created_at",
    "label__created_at__gte": "label__created_at__gte",
    "label__created_at__lte": "label__created_at__lte",
}


class LinkFilter(serializers.Serializer):
    project = serializers.IntegerField(required=False, min_value=1)
    label__created_by = serializers.IntegerField(required=False, min_value=1)
    label__created_at = serializers.DateTimeField(required=False)
    label__created_at__gte = serializers.DateTimeField(required=False)
    label__created_at__lte = serializers.DateTimeField(required=False)


class LabelLinkListApi(APIView):
    def get(self, request):
        params = LinkFilter(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = labels.links_visible(user=request.user).filter(**params.validated_data)
        expand = "label" in _expand(request)
        return _page(
            request,
            links_with_counts(rows),
            lambda items: [link_dict(link, expand_label=expand) for link in items],
        )

    def post(self, request):
        link = labels.link_create(user=request.user, data=request.data)
        return Response(link_dict(link), status=status.HTTP_201_CREATED)


class LabelLinkDetailApi(APIView):
    def _out(self, request, link: LabelLink) -> Response:
        link = links_with_counts(LabelLink.objects.select_related("label").filter(pk=link.pk)).get()
        return Response(link_dict(link, expand_label="label" in _expand(request)))

    def get(self, request, pk):
        return self._out(request, labels.link_for_user(user=request.user, pk=pk))

    def patch(self, request, pk):
        link = labels.link_for_user(user=request.user, pk=pk, capability=perms.MANAGE)
        return self._out(
            request, labels.link_update(link=link, user=request.user, data=request.data)
        )

    put = patch

    def delete(self, request, pk):
        link = labels.link_for_user(user=request.user, pk=pk, capability=perms.MANAGE)
        labels.link_delete(link=link)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LabelBulkIn(serializers.Serializer):
    project = serializers.IntegerField(required=False, allow_null=True, default=None)
    old_label = serializers.JSONField()
    new_label = serializers.JSONField()


class LabelBulkUpdateApi(APIView):
    """``POST /api/labels/bulk`` ``{project?, old_label, new_label}``: every region whose
    ``value[type]`` equals ``old_label`` gets ``new_label``, in the project's annotations
    (or, without ``project``, in every project the caller manages);
    ``{"annotations_updated": <regions changed>}``."""

    def post(self, request):
        data = LabelBulkIn(data=request.data)
        data.is_valid(raise_exception=True)
        project_id = data.validated_data["project"]
        if project_id is not None:
            id_list([str(project_id)], "project")
            projects = [perms.project_for(request.user, project_id, perms.MANAGE)]
        else:
            projects = list(Project.objects.for_user(request.user).order_by("pk"))
            projects = [p for p in projects if perms.can(request.user, p, perms.MANAGE)]
        if data.validated_data["old_label"] is None:
            raise ApiError("old_label: required", [{"field": "old_label", "message": "required"}])
        updated = annotations_label_rename(
            projects=projects,
            old_label=data.validated_data["old_label"],
            new_label=data.validated_data["new_label"],
        )
        return Response({"annotations_updated": updated})
