"""The storage and webhook APIs answer errors in Label Studio 1.23.2's shape (its
``custom_exception_handler``: ``id``, ``status_code``, ``detail``, ``exc_info``, and for
a 400 ``detail: "Validation error"`` with ``validation_errors``), with LabelHub's
located ``errors`` beside them."""

import shutil

import pytest

pytestmark = pytest.mark.django_db
URL = "/api/storages/localfiles"


def _label_studio_400(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["status_code"] == 400 and body["detail"] == "Validation error"
    assert body["exc_info"] is None and len(body["id"]) == 36
    assert isinstance(body["validation_errors"], dict) and body["validation_errors"]
    return body


def test_bad_create_validate_and_sync(api, project, local_root):
    # create without a project: a field error (Label Studio's wording)
    body = _label_studio_400(api.post(URL, {"path": str(local_root)}, format="json"))
    assert body["validation_errors"] == {"project": ["This field is required."]}
    # create with a bad field type: DRF's message under the field
    body = _label_studio_400(
        api.post(
            URL,
            {"project": project.pk, "path": str(local_root), "use_blob_urls": "maybe"},
            format="json",
        )
    )
    assert list(body["validation_errors"]) == ["use_blob_urls"]
    assert body["errors"][0]["field"] == "use_blob_urls"
    # validate a path outside the root: the storage's error, under non_field_errors
    body = _label_studio_400(
        api.post(f"{URL}/validate", {"project": project.pk, "path": "/etc"}, format="json")
    )
    (message,) = body["validation_errors"]["non_field_errors"]
    assert "LABELHUB_LOCAL_FILES_ROOT" in message
    assert body["errors"] == [{"field": "path", "message": message}]
    # sync of a storage whose folder is gone
    folder = local_root / "gone"
    folder.mkdir()
    storage = api.post(URL, {"project": project.pk, "path": str(folder)}, format="json").json()
    shutil.rmtree(folder)
    body = _label_studio_400(api.post(f"{URL}/{storage['id']}/sync"))
    assert body["validation_errors"]["non_field_errors"]


def test_not_found_and_forbidden(api, project, client_for, annotator):
    missing = api.get(f"{URL}/999999")
    assert missing.status_code == 404
    body = missing.json()
    assert body["status_code"] == 404 and body["detail"] and "validation_errors" not in body
    assert body["exc_info"] is None and body["id"]
    forbidden = client_for(annotator).get(URL, {"project": project.pk})
    assert forbidden.status_code == 403 and forbidden.json()["status_code"] == 403


def test_webhook_errors(api, project, settings):
    settings.LABELHUB_WEBHOOK_ALLOWED_HOSTS = []
    body = _label_studio_400(
        api.post(
            "/api/webhooks/", {"project": project.pk, "url": "http://127.0.0.1:1/x"}, format="json"
        )
    )
    assert list(body["validation_errors"]) == ["url"]
    body = _label_studio_400(
        api.post("/api/webhooks/", {"project": project.pk, "url": "not a url"}, format="json")
    )
    assert "url" in body["validation_errors"]
    missing = api.get("/api/webhooks/999999/")
    assert missing.status_code == 404 and missing.json()["status_code"] == 404
