"""Exact query counts of the storage lists, for every kind and both sides: the same
number for one storage as for many (no query per storage)."""

import pytest

from io_storages.kinds import KINDS
from io_storages.models import ExportStorage, ImportStorage, Status

pytestmark = pytest.mark.django_db

OPTIONS = {
    "s3": {"bucket": "b", "prefix": "p/"},
    "gcs": {"bucket": "b"},
    "azure": {"container": "c", "account_name": "devstoreaccount1"},
    "redis": {"host": "127.0.0.1", "path": "tasks"},
    "localfiles": {"path": "/tmp/none"},
}
CREDENTIALS = {
    "s3": {"aws_secret_access_key": "hidden"},
    "gcs": {"google_application_credentials": "{}"},
    "azure": {"account_key": "hidden"},
    "redis": {"password": "hidden"},
    "localfiles": {},
}
# A finished sync, a failed one, a queued one, a new storage: no status costs a query
# (only a storage ``in_progress`` is checked for a dead worker).
STATUSES = (Status.COMPLETED, Status.FAILED, Status.QUEUED, Status.INITIALIZED)


def _make(model, project, kind: str, count: int) -> None:
    model.objects.bulk_create(
        [
            model(
                project=project,
                kind=kind,
                title=f"{kind} {n}",
                options=OPTIONS[kind],
                credentials=CREDENTIALS[kind],
                status=STATUSES[n % len(STATUSES)],
                meta={"attempts": n},
            )
            for n in range(count)
        ]
    )


@pytest.mark.parametrize("side", ["import", "export"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_kind_list_query_count_is_exact_and_flat(
    api, project, kind, side, django_assert_num_queries
):
    model = ImportStorage if side == "import" else ExportStorage
    url = f"/api/storages/{kind}/" if side == "import" else f"/api/storages/export/{kind}/"
    _make(model, project, kind, 1)
    api.get(url, {"project": project.pk})  # warm the session and role caches
    # token auth, the project, the member's role, the storages
    with django_assert_num_queries(4):
        assert len(api.get(url, {"project": project.pk}).json()) == 1
    _make(model, project, kind, 7)
    with django_assert_num_queries(4):
        listed = api.get(url, {"project": project.pk}).json()
    assert len(listed) == 8 and {row["type"] for row in listed} == {kind}
    assert all("credentials" not in row and "hidden" not in str(row) for row in listed)


@pytest.mark.parametrize("side", ["import", "export"])
def test_all_kinds_list_query_count_is_exact_and_flat(
    api, project, side, django_assert_num_queries
):
    model = ImportStorage if side == "import" else ExportStorage
    url = "/api/storages/" if side == "import" else "/api/storages/export/"
    _make(model, project, "s3", 1)
    api.get(url, {"project": project.pk})
    with django_assert_num_queries(4):
        assert len(api.get(url, {"project": project.pk}).json()) == 1
    for kind in KINDS:
        _make(model, project, kind, 3)
    with django_assert_num_queries(4):
        listed = api.get(url, {"project": project.pk}).json()
    assert len(listed) == 1 + 3 * len(KINDS)
    assert {row["type"] for row in listed} == set(KINDS)
