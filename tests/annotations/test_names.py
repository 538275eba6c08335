"""People are names: annotations carry Label Studio's ``created_username`` (the
annotator's name, else email), which the editor, the quick view and the Verify Stream
show."""

import pytest

from annotations.services import annotation_create
from tasks.models import Task
from tests.factories import choice

pytestmark = pytest.mark.django_db


def test_annotations_carry_the_annotators_name(api, project, annotator, reviewer, client_for):
    annotator.first_name, annotator.last_name = "Ada", "Lovelace"
    annotator.save()
    task = Task.objects.create(project=project, data={"text": "x"})
    annotation_create(task=task, user=annotator, result=choice("Positive"))
    annotation_create(task=task, user=reviewer, result=choice("Negative"))

    nested = api.get(f"/api/tasks/{task.pk}/").json()["annotations"]
    assert [a["created_username"] for a in nested] == ["Ada Lovelace", "reviewer@example.com"]
    listed = api.get(f"/api/tasks/{task.pk}/annotations/").json()
    assert listed[0]["created_username"] == "Ada Lovelace"
    one = api.get(f"/api/annotations/{nested[0]['id']}/").json()
    assert one["created_username"] == "Ada Lovelace" and one["completed_by"] == annotator.pk

    # The Verify Stream picks a completion at random: each carries its own author's name.
    verify = client_for(reviewer).get(f"/api/projects/{project.pk}/verify/next/").json()
    names = {annotator.pk: "Ada Lovelace", reviewer.pk: "reviewer@example.com"}
    shown = verify["annotation"]
    assert shown["created_username"] == names[shown["completed_by"]]
