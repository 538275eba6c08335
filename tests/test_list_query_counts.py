"""Every list endpoint answers in an exact number of queries, whatever it lists.

Each URL is read with a few rows of each kind, then with many more (tasks, annotations,
predictions, drafts, members, projects, tabs, labels, webhooks, storages of every kind,
reviews, the Label Stream's history, export snapshots and their conversions, uploads,
import jobs, ML backends and their training and prediction jobs); both reads must cost
exactly the number in the table, and the second must list more (lists of what the code
defines excepted). A change that adds a query per row
(an N+1) or a query per request fails here with both counts; a change that adds or saves
a fixed query updates the table, on purpose.
"""

import pytest

from annotations.models import AnnotationDraft, LabelStreamVisit
from annotations.services import annotation_create, prediction_create, review_set
from datamanager.models import View
from exporters.models import ConvertedFormat, ExportSnapshot
from importers.models import FileUpload, ImportJob
from importers.services import tasks_import
from io_storages.models import ExportStorage, ImportStorage
from ml.models import MLBackend, PredictionJob, TrainingJob
from projects.models import Label, LabelLink
from projects.services import member_set, project_create
from tasks.models import Task
from tests.factories import TEXT_CONFIG, choice
from webhooks.models import Webhook

pytestmark = pytest.mark.django_db

KINDS = ("s3", "gcs", "azure", "redis", "localfiles")

# url -> exact statements for one authenticated GET (token auth included).
EXACT = {
    "/api/projects/": 4,
    "/api/projects/counts/": 3,
    "/api/users/": 2,
    "/api/organizations/": 2,
    "/api/projects/{p}/members/": 5,
    "/api/projects/{p}/annotators/": 5,
    "/api/projects/{p}/model-versions/": 4,
    # 7 since the admin's annotators come with the page summaries' annotations (was 8).
    "/api/tasks/?project={p}": 7,
    "/api/tasks/?project={p}&fields=all": 8,
    "/api/predictions/?project={p}": 4,
    "/api/tasks/{t}/annotations/": 5,
    "/api/tasks/{t}/drafts": 4,
    "/api/dm/views/?project={p}": 4,
    "/api/labels/": 4,
    "/api/label_links/": 3,
    "/api/webhooks/?project={p}": 3,
    "/api/storages/?project={p}": 4,
    "/api/storages/export/?project={p}": 4,
    **{f"/api/storages/{kind}/?project={{p}}": 4 for kind in KINDS},
    **{f"/api/storages/export/{kind}?project={{p}}": 4 for kind in KINDS},
    "/api/storages/types/": 1,
    "/api/storages/export/types/": 1,
    "/api/projects/{p}/tasks/": 7,
    "/api/projects/{p}/my-annotations/": 4,
    "/api/projects/{p}/label-stream-history/": 4,
    "/api/annotations/{a}/reviews/": 4,
    "/api/annotations/{a}/review-history/": 4,
    # the snapshots with their creators, their conversions
    "/api/projects/{p}/exports/": 5,
    "/api/projects/{p}/export/files/": 4,
    "/api/projects/{p}/export/formats/": 3,
    "/api/projects/{p}/file-uploads/?all=true": 4,
    "/api/projects/{p}/imports/": 4,
    # the organization, the count, the page (profiles joined)
    "/api/organizations/1/memberships/": 4,
    "/api/organizations/1/memberships/?page_size=-1": 3,
    "/api/ml/?project={p}": 4,
    "/api/ml/{b}/jobs/": 4,
    "/api/ml/{b}/prediction-jobs/": 4,
    "/api/ml/{b}/versions/": 4,
    "/api/ml/models/?project={p}": 3,
    "/api/dm/actions/?project={p}": 3,
    "/api/dm/columns/?project={p}": 3,
    "/api/webhooks/info/": 1,
    "/api/templates/": 1,
    "/api/projects/{p}/learning-curve/": 4,
    # the stored summaries: agreement, label counts, annotator days, lead-time buckets,
    # pair totals, annotator totals, their emails, the daily totals
    "/api/projects/{p}/quality/": 11,
    "/api/projects/{p}/quality/agreement-matrix/": 5,
    "/api/tasks/{t}/agreement/": 5,
}


def _grow(owner, project, make_user, first_task, first_annotation, backend, n: int, tag: str):
    for i in range(n):
        project_create(user=owner, title=f"more {tag}{i}", label_config=TEXT_CONFIG)
        member = make_user(f"grow{tag}{i}@example.com")
        member_set(project=project, user=member, role="reviewer")
        review_set(annotation=first_annotation, reviewer=member, accepted=bool(i % 2))
        annotation_create(task=first_task, user=member, result=choice("Negative"))
        snapshot = ExportSnapshot.objects.create(
            project=project, created_by=member, status="completed", file=f"x/{tag}{i}.json"
        )
        ConvertedFormat.objects.create(snapshot=snapshot, export_type="CSV", status="completed")
        ConvertedFormat.objects.create(snapshot=snapshot, export_type="TSV", status="failed")
        FileUpload.objects.create(
            project=project, user=member, file=f"upload/{project.pk}/{tag}{i}.json", name="f"
        )
        ImportJob.objects.create(project=project, created_by=member, status="completed")
        MLBackend.objects.create(project=project, url=f"http://ml-{tag}{i}.example")
        number = TrainingJob.objects.filter(backend=backend).count() + 1
        TrainingJob.objects.create(
            backend=backend,
            project=project,
            created_by=member,
            status="completed",
            model_version=number,
            metrics={"accuracy": 0.5, "held_out": 40},
        )
        PredictionJob.objects.create(backend=backend, project=project, status="completed")
        View.objects.create(project=project, user=owner, data={"title": f"tab {tag}{i}"})
        label = Label.objects.create(created_by=owner, value=f"L{tag}{i}", title=f"L{tag}{i}")
        LabelLink.objects.create(project=project, label=label, from_name="sentiment")
        Webhook.objects.create(
            project=project, url=f"https://hooks.example.com/{tag}{i}", created_by=owner
        )
        for kind in KINDS:
            ImportStorage.objects.create(project=project, kind=kind, title=f"{kind} {tag}{i}")
            ExportStorage.objects.create(project=project, kind=kind, title=f"{kind} {tag}{i}")
    task_ids = tasks_import(
        project=project, records=[{"text": f"{tag}{i}"} for i in range(n)], user=owner
    ).task_ids
    for task_id in task_ids:
        task = Task.objects.get(pk=task_id)
        annotation = annotation_create(task=task, user=owner, result=choice("Positive"))
        prediction_create(task=task, result=choice("Negative"), score=0.5)
        LabelStreamVisit.objects.create(
            project=project, user=owner, task=task, annotation=annotation
        )
    for i in range(n):
        annotation_create(task=first_task, user=owner, result=choice("Neutral"))
        AnnotationDraft.objects.create(
            task=first_task,
            project=project,
            user=make_user(f"drafter{tag}{i}@example.com"),
            result=choice("Positive"),
        )


# Lists of what the code or the config defines, not of rows: the same answer both times.
FIXED = {
    "/api/organizations/",  # the one organization
    "/api/storages/types/",
    "/api/storages/export/types/",
    "/api/projects/{p}/export/formats/",
    "/api/ml/models/?project={p}",
    "/api/dm/actions/?project={p}",
    "/api/dm/columns/?project={p}",
    "/api/webhooks/info/",
    "/api/templates/",
}


def _count(api, url, django_assert_max_num_queries) -> tuple[int, int]:
    """(queries, bytes) of one warm read."""
    api.get(url)  # warm caches (content types, the session's first statements)
    with django_assert_max_num_queries(100) as captured:
        response = api.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return len(captured.captured_queries), len(response.content)


@pytest.mark.parametrize("url", sorted(EXACT))
def test_list_costs_an_exact_number_of_queries(
    api, owner, project, make_user, url, django_assert_max_num_queries
):
    first_task = Task.objects.get(
        pk=tasks_import(project=project, records=[{"text": "first"}], user=owner).task_ids[0]
    )
    first_annotation = annotation_create(task=first_task, user=owner, result=choice("Positive"))
    backend = MLBackend.objects.create(project=project, kind="builtin", model="text-classifier")
    target = url.format(p=project.pk, t=first_task.pk, a=first_annotation.pk, b=backend.pk)
    grow = (owner, project, make_user, first_task, first_annotation, backend)
    _grow(*grow, 2, "a")
    small, small_size = _count(api, target, django_assert_max_num_queries)
    _grow(*grow, 8, "b")
    large, large_size = _count(api, target, django_assert_max_num_queries)
    assert (small, large) == (EXACT[url], EXACT[url]), (url, small, large)
    # The second read listed more (else it proves nothing about a query per row).
    assert (large_size == small_size) if url in FIXED else (large_size > small_size), url
