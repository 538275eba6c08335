"""Every list endpoint answers in an exact number of queries, whatever it lists.

Each URL is read with a few rows of each kind, then with many more (tasks, annotations,
predictions, drafts, members, projects, tabs, labels, webhooks, storages of every kind);
both reads must cost exactly the number in the table. A change that adds a query per row
(an N+1) or a query per request fails here with both counts; a change that adds or saves
a fixed query updates the table, on purpose.
"""

import pytest

from annotations.models import AnnotationDraft
from annotations.services import annotation_create, prediction_create
from datamanager.models import View
from importers.services import tasks_import
from io_storages.models import ExportStorage, ImportStorage
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
}


def _grow(owner, project, make_user, first_task, n: int, tag: str) -> None:
    for i in range(n):
        project_create(user=owner, title=f"more {tag}{i}", label_config=TEXT_CONFIG)
        member_set(project=project, user=make_user(f"grow{tag}{i}@example.com"), role="annotator")
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
        annotation_create(task=task, user=owner, result=choice("Positive"))
        prediction_create(task=task, result=choice("Negative"), score=0.5)
    for i in range(n):
        annotation_create(task=first_task, user=owner, result=choice("Neutral"))
        AnnotationDraft.objects.create(
            task=first_task,
            project=project,
            user=make_user(f"drafter{tag}{i}@example.com"),
            result=choice("Positive"),
        )


def _count(api, url, django_assert_max_num_queries) -> int:
    api.get(url)  # warm caches (content types, the session's first statements)
    with django_assert_max_num_queries(100) as captured:
        response = api.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return len(captured.captured_queries)


@pytest.mark.parametrize("url", sorted(EXACT))
def test_list_costs_an_exact_number_of_queries(
    api, owner, project, make_user, url, django_assert_max_num_queries
):
    first_task = Task.objects.get(
        pk=tasks_import(project=project, records=[{"text": "first"}], user=owner).task_ids[0]
    )
    annotation_create(task=first_task, user=owner, result=choice("Positive"))
    target = url.format(p=project.pk, t=first_task.pk)
    _grow(owner, project, make_user, first_task, 2, "a")
    small = _count(api, target, django_assert_max_num_queries)
    _grow(owner, project, make_user, first_task, 8, "b")
    large = _count(api, target, django_assert_max_num_queries)
    assert (small, large) == (EXACT[url], EXACT[url]), (url, small, large)
