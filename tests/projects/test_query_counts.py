"""Each list endpoint costs a fixed number of queries, however many rows it lists."""

import pytest

from annotations.services import annotation_create, prediction_create
from importers.services import tasks_import
from projects.services import member_set, project_create
from tasks.models import Task
from tests.factories import TEXT_CONFIG, choice

pytestmark = pytest.mark.django_db


def _queries(api, url, django_assert_max_num_queries) -> int:
    api.get(url)
    with django_assert_max_num_queries(50) as captured:
        assert api.get(url).status_code == 200
    return len(captured.captured_queries)


def _grow(owner, project, make_user, n: int) -> None:
    for i in range(n):
        project_create(user=owner, title=f"more {i}", label_config=TEXT_CONFIG)
        member_set(project=project, user=make_user(f"grow{i}-{n}@example.com"), role="annotator")
    task_ids = tasks_import(
        project=project, records=[{"text": str(i)} for i in range(n)], user=owner
    ).task_ids
    for task_id in task_ids:
        task = Task.objects.get(pk=task_id)
        annotation_create(task=task, user=owner, result=choice("Positive"))
        prediction_create(task=task, result=choice("Negative"), score=0.5)


@pytest.mark.parametrize(
    "url",
    [
        "/api/projects/",
        "/api/users/",
        "/api/projects/{p}/members/",
        "/api/tasks/?project={p}",
        "/api/tasks/?project={p}&fields=all",
        "/api/predictions/?project={p}",
        "/api/tasks/{t}/annotations/",
    ],
)
def test_list_query_count_does_not_grow(
    api, owner, project, make_user, url, django_assert_max_num_queries
):
    first_task = Task.objects.get(
        pk=tasks_import(project=project, records=[{"text": "first"}], user=owner).task_ids[0]
    )
    annotation_create(task=first_task, user=owner, result=choice("Positive"))
    target = url.format(p=project.pk, t=first_task.pk)
    _grow(owner, project, make_user, 2)
    small = _queries(api, target, django_assert_max_num_queries)
    _grow(owner, project, make_user, 12)
    for _ in range(5):
        annotation_create(task=first_task, user=owner, result=choice("Neutral"))
    large = _queries(api, target, django_assert_max_num_queries)
    assert large == small, (target, small, large)
