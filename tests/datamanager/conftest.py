"""A small labeled world for the Data Manager tests: an image project with boxes
(Cat/Dog) by two annotators, predictions from two model versions, reviews, meta."""

from dataclasses import dataclass, field

import pytest

from annotations.services import annotation_create, prediction_create, review_set
from importers.services import tasks_import
from projects.models import ProjectMember
from projects.services import member_set, project_create
from tasks.models import Task
from tests.factories import IMAGE_CONFIG, box


@dataclass
class World:
    project: object
    tasks: list = field(default_factory=list)  # Task objects, in id order
    annotations: dict = field(default_factory=dict)  # name -> Annotation

    @property
    def ids(self) -> list[int]:
        return [t.pk for t in self.tasks]


@pytest.fixture
def second_annotator(make_user):
    return make_user("second@example.com")


@pytest.fixture
def world(owner, reviewer, annotator, second_annotator) -> World:
    """Six image tasks:

    t0: Cat by annotator (accepted by reviewer), prediction Cat 0.9 m1
    t1: Dog by annotator, Cat by second (rejected), prediction Dog 0.4 m2
    t2: Cat+Dog by second (ground truth), prediction Cat 0.2 m1
    t3: skipped by annotator (cancelled)
    t4: nothing; meta {"batch": "b2", "n": 5}
    t5: nothing; data has a number "size": 12 and a string "size_s": "7"
    """
    project = project_create(user=owner, title="Pets", label_config=IMAGE_CONFIG)
    member_set(project=project, user=reviewer, role=ProjectMember.Role.REVIEWER)
    member_set(project=project, user=annotator, role=ProjectMember.Role.ANNOTATOR)
    member_set(project=project, user=second_annotator, role=ProjectMember.Role.ANNOTATOR)
    records = [
        {
            "data": {"image": "/a/0.jpg", "caption": "a cat on a mat", "size": 3},
            "meta": {"batch": "b1", "n": 1},
        },
        {
            "data": {"image": "/a/1.jpg", "caption": "two dogs", "size": 30},
            "meta": {"batch": "b1", "n": 2},
        },
        {
            "data": {"image": "/a/2.jpg", "caption": "Cat and dog", "size": 12.5},
            "meta": {"batch": "b1"},
        },
        {"data": {"image": "/a/3.jpg", "caption": "", "size": "8"}, "meta": {}},
        {"data": {"image": "/a/4.jpg", "caption": "nothing"}, "meta": {"batch": "b2", "n": 5}},
        {"data": {"image": "/a/5.jpg", "caption": "plain", "size": 12, "size_s": "7"}},
    ]
    ids = tasks_import(project=project, records=records, user=owner).task_ids
    tasks = list(Task.objects.filter(pk__in=ids).order_by("id"))
    w = World(project=project, tasks=tasks)
    a = w.annotations
    a["t0_cat"] = annotation_create(
        task=tasks[0], user=annotator, result=[box("Cat")], lead_time=10
    )
    a["t1_dog"] = annotation_create(
        task=tasks[1], user=annotator, result=[box("Dog")], lead_time=20
    )
    a["t1_cat"] = annotation_create(
        task=tasks[1], user=second_annotator, result=[box("Cat")], lead_time=30
    )
    a["t2_both"] = annotation_create(
        task=tasks[2],
        user=second_annotator,
        result=[box("Cat"), box("Dog", rid="b2", x=50)],
        ground_truth=True,
    )
    a["t3_skip"] = annotation_create(task=tasks[3], user=annotator, result=[], was_cancelled=True)
    prediction_create(task=tasks[0], result=[box("Cat")], score=0.9, model_version="m1")
    prediction_create(task=tasks[1], result=[box("Dog")], score=0.4, model_version="m2")
    prediction_create(task=tasks[2], result=[box("Cat")], score=0.2, model_version="m1")
    review_set(annotation=a["t0_cat"], reviewer=reviewer, accepted=True)
    review_set(annotation=a["t1_cat"], reviewer=reviewer, accepted=False)
    for task in tasks:
        task.refresh_from_db()
    return w
