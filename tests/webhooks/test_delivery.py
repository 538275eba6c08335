"""Delivery to a real receiver on loopback: each event once per change, signed, in Label
Studio's shape; retries with backoff; the SSRF rule again at each call; limits."""

import hashlib
import hmac
import time

import pytest

from annotations import services as annotation_services
from annotations.models import Annotation, Prediction
from importers.services import tasks_import
from labelhub import events
from projects.services import project_create
from tasks.models import Task
from tests.factories import TEXT_CONFIG, choice
from webhooks import sending, services
from webhooks.models import Webhook

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(django_capture_on_commit_callbacks, jobs_inline, allow_loopback):
    """Run a change and the deliveries it queues (after its commit)."""

    def go(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return go


@pytest.fixture
def hook(project, owner, receiver, allow_loopback):
    return services.webhook_create(user=owner, project=project, url=receiver.url)


@pytest.fixture
def task(project, owner):
    ids = tasks_import(project=project, records=[{"text": "hello"}], user=owner).task_ids
    return Task.objects.get(pk=ids[0])


def _verify(call, secret: str) -> None:
    parts = dict(item.split("=", 1) for item in call["headers"]["X-LabelHub-Signature"].split(","))
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + call["raw"], hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    assert abs(int(parts["t"]) - time.time()) < 60


def test_annotation_created_once_signed_in_label_studio_shape(
    run, hook, receiver, client_for, annotator, task, project
):
    api = client_for(annotator)
    created = run(
        api.post,
        f"/api/tasks/{task.pk}/annotations/",
        {"result": choice("Positive")},
        format="json",
    )
    assert created.status_code == 201
    assert len(receiver.calls) == 1
    call = receiver.calls[0]
    _verify(call, hook.secret)
    assert call["path"] == "/hook"
    assert call["headers"]["X-LabelHub-Event"] == "ANNOTATION_CREATED"
    assert call["headers"]["Content-Type"] == "application/json"
    body = receiver.bodies()[0]
    assert set(body) == {"action", "annotation", "task", "project"}
    assert body["action"] == "ANNOTATION_CREATED"
    annotation = body["annotation"]
    assert annotation["id"] == created.json()["id"]
    assert annotation["result"] == choice("Positive")
    assert annotation["task"] == task.pk and annotation["project"] == project.pk
    assert annotation["completed_by"] == annotator.pk
    assert {"was_cancelled", "ground_truth", "lead_time", "result_count", "created_at"} <= set(
        annotation
    )
    assert body["task"]["id"] == task.pk and body["task"]["data"] == {"text": "hello"}
    assert {"is_labeled", "overlap", "inner_id", "total_annotations", "project"} <= set(
        body["task"]
    )
    assert body["project"]["id"] == project.pk and body["project"]["title"] == project.title
    assert body["project"]["total_annotations_number"] == 1

    # A wrong secret does not verify.
    with pytest.raises(AssertionError):
        _verify(call, "another-secret-of-some-length")


def test_annotation_updated_and_deleted(run, hook, receiver, client_for, annotator, task):
    api = client_for(annotator)
    aid = run(
        api.post,
        f"/api/tasks/{task.pk}/annotations/",
        {"result": choice("Positive")},
        format="json",
    ).json()["id"]
    run(api.patch, f"/api/annotations/{aid}/", {"result": choice("Negative")}, format="json")
    run(api.delete, f"/api/annotations/{aid}/")
    assert [b["action"] for b in receiver.bodies()] == [
        "ANNOTATION_CREATED",
        "ANNOTATION_UPDATED",
        "ANNOTATIONS_DELETED",
    ]
    updated = receiver.bodies("ANNOTATION_UPDATED")[0]
    assert updated["annotation"]["result"] == choice("Negative")
    deleted = receiver.bodies("ANNOTATIONS_DELETED")[0]
    assert deleted["annotations"] == [{"id": aid}] and deleted["project"]["id"] == task.project_id
    assert set(deleted) == {"action", "annotations", "project"}


def test_tasks_created_and_deleted(run, hook, receiver, api, project, owner):
    made = run(
        api.post, "/api/tasks/", {"project": project.pk, "data": {"text": "a"}}, format="json"
    )
    assert made.status_code == 201, made.content
    run(tasks_import, project=project, records=[{"text": "b"}, {"text": "c"}], user=owner)
    created = receiver.bodies("TASKS_CREATED")
    assert [[t["data"]["text"] for t in b["tasks"]] for b in created] == [["a"], ["b", "c"]]
    assert created[0]["project"]["id"] == project.pk
    ids = sorted(Task.objects.values_list("pk", flat=True))
    run(api.delete, f"/api/tasks/{ids[0]}/")
    run(
        api.post,
        f"/api/dm/actions/?id=delete_tasks&project={project.pk}",
        {"selectedItems": {"all": True}},
        format="json",
    )
    deleted = receiver.bodies("TASKS_DELETED")
    assert [b["tasks"] for b in deleted] == [[{"id": ids[0]}], [{"id": i} for i in ids[1:]]]
    assert len(receiver.calls) == 4


def test_import_in_batches(run, hook, receiver, project, owner, settings):
    settings.LABELHUB_WEBHOOK_BATCH_SIZE = 2
    run(tasks_import, project=project, records=[{"text": str(i)} for i in range(5)], user=owner)
    assert [len(b["tasks"]) for b in receiver.bodies("TASKS_CREATED")] == [2, 2, 1]


def test_project_events(run, receiver, client_for, staff, owner, api, project, allow_loopback):
    org = services.webhook_create(user=staff, project=None, url=receiver.url)
    services.webhook_create(user=owner, project=project, url=receiver.url)  # gets UPDATED only
    created = run(
        client_for(staff).post, "/api/projects/", {"title": "New", "label_config": TEXT_CONFIG}
    )
    assert created.status_code == 201, created.content
    new_pk = created.json()["id"]
    run(api.patch, f"/api/projects/{project.pk}/", {"title": "Renamed"}, format="json")
    run(client_for(staff).delete, f"/api/projects/{new_pk}/")
    actions = [b["action"] for b in receiver.bodies()]
    assert actions == ["PROJECT_CREATED", "PROJECT_UPDATED", "PROJECT_UPDATED", "PROJECT_DELETED"]
    assert receiver.bodies("PROJECT_CREATED")[0]["project"]["title"] == "New"
    assert {b["project"]["title"] for b in receiver.bodies("PROJECT_UPDATED")} == {"Renamed"}
    assert receiver.bodies("PROJECT_DELETED")[0] == {
        "action": "PROJECT_DELETED",
        "project": {"id": new_pk},
    }
    _verify(receiver.calls[0], org.secret)


def test_annotations_created_review_and_ground_truth(
    run, hook, receiver, api, client_for, reviewer, annotator, project, task, owner
):
    Prediction.objects.create(task=task, project=project, result=choice("Positive"))
    run(
        api.post,
        f"/api/dm/actions/?id=predictions_to_annotations&project={project.pk}",
        {"selectedItems": {"all": True}},
        format="json",
    )
    bulk = receiver.bodies("ANNOTATIONS_CREATED")
    annotation = Annotation.objects.get()
    assert len(bulk) == 1 and [a["id"] for a in bulk[0]["annotation"]] == [annotation.pk]
    assert [t["id"] for t in bulk[0]["task"]] == [task.pk]

    review = run(
        client_for(reviewer).post,
        f"/api/annotations/{annotation.pk}/reviews/",
        {"accepted": False, "comment": "no"},
        format="json",
    )
    assert review.status_code in (200, 201), review.content
    reviewed = receiver.bodies("REVIEW_CREATED")
    assert len(reviewed) == 1
    assert reviewed[0]["review"]["accepted"] is False
    assert reviewed[0]["review"]["comment"] == "no"
    assert reviewed[0]["annotation"]["id"] == annotation.pk

    run(api.patch, f"/api/annotations/{annotation.pk}/", {"ground_truth": True}, format="json")
    run(
        api.post,
        f"/api/dm/actions/?id=unmark_ground_truth&project={project.pk}",
        {"selectedItems": {"all": True}},
        format="json",
    )
    run(
        api.post,
        f"/api/dm/actions/?id=mark_ground_truth&project={project.pk}",
        {"selectedItems": {"all": True}},
        format="json",
    )
    run(api.post, f"/api/projects/{project.pk}/ground-truth/reset/")
    changed = receiver.bodies("GROUND_TRUTH_CHANGED")
    assert [[a["ground_truth"] for a in b["annotations"]] for b in changed] == [
        [True],
        [False],
        [True],
        [False],
    ]
    run(
        api.post,
        f"/api/dm/actions/?id=delete_tasks_annotations&project={project.pk}",
        {"selectedItems": {"all": True}},
        format="json",
    )
    assert receiver.bodies("ANNOTATIONS_DELETED")[0]["annotations"] == [{"id": annotation.pk}]
    # Each change once (the PATCH is also Label Studio's ANNOTATION_UPDATED), every call
    # signed with the hook's secret.
    assert [b["action"] for b in receiver.bodies()] == [
        "ANNOTATIONS_CREATED",
        "REVIEW_CREATED",
        "ANNOTATION_UPDATED",
        *["GROUND_TRUTH_CHANGED"] * 4,
        "ANNOTATIONS_DELETED",
    ]
    for call in receiver.calls:
        _verify(call, hook.secret)


def test_actions_filter_send_payload_and_inactive(
    run, receiver, owner, project, task, annotator, client_for, allow_loopback
):
    services.webhook_create(
        user=owner,
        project=project,
        url=receiver.url,
        send_for_all_actions=False,
        actions=["ANNOTATION_UPDATED"],
        send_payload=False,
    )
    services.webhook_create(user=owner, project=project, url=receiver.url, is_active=False)
    api = client_for(annotator)
    aid = run(
        api.post,
        f"/api/tasks/{task.pk}/annotations/",
        {"result": choice("Positive")},
        format="json",
    ).json()["id"]
    assert receiver.calls == []
    run(api.patch, f"/api/annotations/{aid}/", {"result": choice("Negative")}, format="json")
    assert receiver.bodies() == [{"action": "ANNOTATION_UPDATED"}]


def test_other_projects_events_are_not_sent(run, hook, receiver, owner):
    other = run(project_create, user=owner, title="Other", label_config=TEXT_CONFIG)
    run(tasks_import, project=other, records=[{"text": "x"}], user=owner)
    assert receiver.calls == []


def test_rolled_back_change_sends_nothing(run, hook, receiver, project):
    def failing():
        from django.db import transaction

        with transaction.atomic():
            annotation_services.task_create(project=project, data={"text": "x"})
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        run(failing)
    assert receiver.calls == []


def test_retries_with_backoff_until_the_receiver_answers(
    run, hook, receiver, project, settings, monkeypatch
):
    waits = []
    real = sending.backoff
    monkeypatch.setattr(sending, "backoff", lambda attempt: waits.append(real(attempt)) or 0)
    settings.LABELHUB_WEBHOOK_BACKOFF = 10
    receiver.statuses = [500, 503, 429]
    run(annotation_services.task_create, project=project, data={"text": "x"})
    assert len(receiver.calls) == 4
    assert len({c["headers"]["X-LabelHub-Delivery"] for c in receiver.calls}) == 1
    assert len({c["raw"] for c in receiver.calls}) == 1
    assert waits == [10, 20, 40]


def test_retries_stop_after_the_last_attempt_and_on_a_4xx(run, hook, receiver, project, settings):
    settings.LABELHUB_WEBHOOK_ATTEMPTS = 3
    receiver.statuses = [500] * 10
    run(annotation_services.task_create, project=project, data={"text": "x"})
    assert len(receiver.calls) == 3
    receiver.calls.clear()
    receiver.statuses = [404, 200]
    run(annotation_services.task_create, project=project, data={"text": "y"})
    assert len(receiver.calls) == 1


def test_unreachable_receiver_is_retried(run, hook, receiver, project, settings):
    settings.LABELHUB_WEBHOOK_ATTEMPTS = 2
    Webhook.objects.filter(pk=hook.pk).update(url="http://127.0.0.1:18721/nobody")
    run(annotation_services.task_create, project=project, data={"text": "x"})
    assert receiver.calls == []


def test_backoff_is_exponential_and_capped(settings):
    settings.LABELHUB_WEBHOOK_BACKOFF = 10
    settings.LABELHUB_WEBHOOK_BACKOFF_MAX = 600
    assert [sending.backoff(n) for n in (1, 2, 3, 7, 20)] == [10, 20, 40, 600, 600]


def test_slow_receiver_hits_the_time_limit(run, hook, receiver, project, settings):
    settings.LABELHUB_WEBHOOK_TIMEOUT = 0.5
    settings.LABELHUB_WEBHOOK_ATTEMPTS = 2
    receiver.delay = 3
    started = time.monotonic()
    run(annotation_services.task_create, project=project, data={"text": "x"})
    assert time.monotonic() - started < 3  # two tries of 0.5 s, not two of 3 s
    assert len(receiver.calls) == 2


def test_ssrf_checked_again_at_each_delivery(run, hook, receiver, project, settings):
    settings.LABELHUB_WEBHOOK_ALLOWED_HOSTS = []  # the receiver was allowed when saved
    run(annotation_services.task_create, project=project, data={"text": "x"})
    assert receiver.calls == []


def test_hook_headers_are_sent(run, receiver, owner, project, allow_loopback):
    services.webhook_create(
        user=owner, project=project, url=receiver.url, headers={"Authorization": "Bearer abc"}
    )
    run(annotation_services.task_create, project=project, data={"text": "x"})
    assert receiver.calls[0]["headers"]["Authorization"] == "Bearer abc"


def test_label_link_events_from_the_labels_api(run, hook, receiver, api, project, owner):
    """/api/labels and /api/label_links send LABEL_LINK_* once per change, after the
    commit, in Label Studio's shape (its LabelLinkSerializer / LabelSerializer)."""
    made = run(
        api.post,
        "/api/labels",
        [{"project": project.pk, "title": "Cat", "value": ["Cat"], "from_name": "sentiment"}],
        format="json",
    )
    assert made.status_code == 201, made.content
    label_id = made.json()[0]["id"]
    (created,) = receiver.bodies()
    assert set(created) == {"action", "label_link", "project"}
    assert created["action"] == "LABEL_LINK_CREATED"
    (link,) = created["label_link"]
    assert link == {
        "id": link["id"],
        "from_name": "sentiment",
        "project": project.pk,
        "label": label_id,
    }
    assert created["project"]["id"] == project.pk

    changed = run(
        api.patch, f"/api/label_links/{link['id']}", {"from_name": "other"}, format="json"
    )
    assert changed.status_code == 200, changed.content
    updated = receiver.bodies("LABEL_LINK_UPDATED")
    assert len(updated) == 1
    assert set(updated[0]) == {"action", "label_link", "label", "project"}
    assert updated[0]["label_link"] == {**link, "from_name": "other"}
    label = updated[0]["label"]
    assert (label["id"], label["title"], label["value"]) == (label_id, "Cat", ["Cat"])
    assert label["links"] == [link["id"]] and label["projects"] == [project.pk]
    assert {"created_at", "updated_at", "created_by", "approved", "organization"} <= set(label)

    # A second project's link, then deletes: the link's own, and the label's (its links go).
    other = project_create(user=owner, title="other", label_config=TEXT_CONFIG)
    linked = run(
        api.post,
        "/api/label_links",
        {"project": other.pk, "label": label_id, "from_name": "sentiment"},
        format="json",
    )
    assert linked.status_code == 201, linked.content
    # The other project has no hook: nothing is sent for its link.
    assert len(receiver.bodies("LABEL_LINK_CREATED")) == 1
    assert run(api.delete, f"/api/label_links/{link['id']}").status_code == 204
    deleted = receiver.bodies("LABEL_LINK_DELETED")
    assert deleted == [
        {
            "action": "LABEL_LINK_DELETED",
            "label_link": {"id": link["id"]},
            "project": deleted[0]["project"],
        }
    ]
    assert deleted[0]["project"]["id"] == project.pk

    # A change that rolls back announces nothing.
    before = len(receiver.calls)
    bad = run(
        api.patch, f"/api/label_links/{linked.json()['id']}", {"from_name": ""}, format="json"
    )
    assert bad.status_code == 400
    assert len(receiver.calls) == before

    services.webhook_create(user=owner, project=other, url=receiver.url)
    assert run(api.delete, f"/api/labels/{label_id}").status_code == 204
    (gone,) = receiver.bodies("LABEL_LINK_DELETED")[1:]
    assert gone["label_link"] == {"id": linked.json()["id"]}
    assert gone["project"]["id"] == other.pk
    assert [b["action"] for b in receiver.bodies()] == [
        "LABEL_LINK_CREATED",
        "LABEL_LINK_UPDATED",
        "LABEL_LINK_DELETED",
        "LABEL_LINK_DELETED",
    ]
    for call in receiver.calls[:3]:
        _verify(call, hook.secret)
    with pytest.raises(ValueError):
        events.publish("NOPE", project_id=project.pk, ids=[1])


@pytest.mark.parametrize("mode", ["drip", "flood"])
def test_an_endless_answer_is_cut_by_the_time_and_size_limits(receiver, settings, mode):
    """Bytes that keep coming (slowly, or fast and many) hold a call no longer than its
    limits: the drip by the wall clock (each byte alone would meet a read timeout), the
    flood by the size limit (long before the time limit)."""
    from webhooks import delivery

    settings.LABELHUB_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.LABELHUB_WEBHOOK_TIMEOUT = 1 if mode == "drip" else 15
    settings.LABELHUB_WEBHOOK_MAX_RESPONSE_BYTES = 1 << 20
    receiver.stream = mode
    target = delivery.Target(url=receiver.url, headers={}, secret="s" * 32)
    started = time.monotonic()
    if mode == "drip":
        with pytest.raises(delivery.DeliveryError, match="did not finish answering") as failed:
            delivery.post(target, b"{}", action="TASKS_CREATED", delivery_id="d")
        assert failed.value.retry
    else:
        assert delivery.post(target, b"{}", action="TASKS_CREATED", delivery_id="d") == 200
    assert time.monotonic() - started < 5


def test_import_api_sends_one_tasks_created(run, hook, receiver, api, project):
    """Label Studio's test_webhooks_for_tasks_import: one call with the three tasks."""
    imported = run(
        api.post,
        f"/api/projects/{project.pk}/import",
        [{"text": "a"}, {"text": "b"}, {"data": {"text": "c"}}],
        format="json",
    )
    assert imported.status_code == 201, imported.content
    assert imported.json()["task_count"] == 3
    (body,) = receiver.bodies()
    assert body["action"] == "TASKS_CREATED" and len(body["tasks"]) == 3
    assert body["project"]["task_number"] == 3
