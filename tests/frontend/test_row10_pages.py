"""Issue #26 row 10 without a browser: the words the Settings page uses for a refused
config change, and the Data Manager's label pick list (which controls, which labels,
when free text too)."""

import pytest

from frontend.dm_views import label_choices
from frontend.wording import counts_sentence, orphan_sentence
from projects.models import Label, LabelLink
from projects.services import project_create
from tests.factories import TEXT_CONFIG


def orphan(reason, **counts):
    return {
        "reason": reason,
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "label": "Positive" if reason == "label" else None,
        **counts,
    }


def test_counts_in_words():
    assert counts_sentence({"annotations": 1}) == "1 annotation"
    assert counts_sentence({"annotations": 3, "drafts": 1}) == "3 annotations and 1 draft"
    assert (
        counts_sentence({"annotations": 1, "drafts": 2, "predictions": 4})
        == "1 annotation, 2 drafts and 4 predictions"
    )


@pytest.mark.parametrize(
    ("reason", "counts", "expected"),
    [
        (
            "label",
            {"annotations": 3},
            'The label "Positive" of control "sentiment" is used in 3 annotations.',
        ),
        (
            "from_name",
            {"annotations": 1},
            'Control "sentiment" is not in the new config; 1 annotation uses it.',
        ),
        (
            "type",
            {"annotations": 2, "predictions": 1},
            'Control "sentiment" no longer gives "choices" results; 2 annotations and 1 prediction hold them.',
        ),
        (
            "to_name",
            {"drafts": 2},
            'Control "sentiment" no longer labels "text"; 2 drafts use it there.',
        ),
    ],
)
def test_orphans_in_words(reason, counts, expected):
    sentence = orphan_sentence(orphan(reason, **counts))
    assert sentence == expected
    assert "from_name" not in sentence and "=" not in sentence


NESTED = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="Cat" alias="C"/><Label value="Dog"/></RectangleLabels>
  <Taxonomy name="topic" toName="image"><Choice value="Animal"><Choice value="Cat"/></Choice></Taxonomy>
  <Rating name="stars" toName="image"/>
</View>"""


@pytest.mark.django_db
def test_label_pick_list_follows_the_config(owner):
    project = project_create(user=owner, title="Plain", label_config=TEXT_CONFIG)
    groups, free = label_choices(project)
    assert free is False  # every label is in the config: a pick list only
    assert groups == [
        {
            "control": "sentiment",
            "type": "Choices",
            "labels": [{"value": v, "path": []} for v in ("Positive", "Negative", "Neutral")],
        }
    ]

    project = project_create(user=owner, title="Nested", label_config=NESTED)
    bird = Label.objects.create(created_by=owner, value=["Animal", "Bird"], title="Bird")
    LabelLink.objects.create(project=project, label=bird, from_name="topic")
    groups, free = label_choices(project)
    assert free is False
    box, topic = groups
    assert [label["value"] for label in box["labels"]] == ["Cat", "Dog"]  # values, not aliases
    assert topic["labels"] == [
        {"value": "Animal", "path": []},
        {"value": "Cat", "path": ["Animal"]},
        {"value": "Bird", "path": ["Animal"]},  # the project's custom Taxonomy label
    ]

    typed = TEXT_CONFIG.replace("</View>", '<TextArea name="note" toName="text"/></View>')
    project = project_create(user=owner, title="Typed", label_config=typed)
    assert label_choices(project)[1] is True  # typed text: free text too


@pytest.mark.django_db
def test_completed_only_once_the_overlap_is_met(owner, annotator, client):
    """The Data Manager's Completed column: empty while a task with overlap 2 has one
    annotation (Label Studio's ``completed_at`` follows ``is_labeled``)."""
    from annotations.services import annotation_create
    from datamanager import selectors as dm
    from projects.services import member_set
    from tasks.models import Task
    from tests.factories import choice

    project = project_create(
        user=owner, title="Overlap", label_config=TEXT_CONFIG, maximum_annotations=2
    )
    member_set(project=project, user=annotator, role="annotator")
    task = Task.objects.create(project=project, data={"text": "x"})

    def completed():
        rows, _ = dm.tasks_page(project=project, query=dm.parse_query({}), after="", size=10)
        return rows[0].completed_at

    annotation_create(task=task, user=owner, result=choice("Positive"))
    assert completed() is None
    client.force_login(owner)
    page = client.get(f"/projects/{project.pk}/data").content.decode()
    assert '<td data-col="completed_at" class="date"></td>' in page
    second = annotation_create(
        task=Task.objects.get(pk=task.pk), user=annotator, result=choice("Negative")
    )
    assert completed() == second.created_at
