"""URL patterns, included at the root by labelhub/urls.py (full paths, api/ included).
One set of views serves every kind; each path is spelled out per kind, as Label Studio
names them, so ``/api/storages/export`` is never read as a kind."""

from django.urls import path

from io_storages import api
from io_storages.kinds import KINDS


def _view(view, **initkwargs):
    return view.as_view(**initkwargs)


urlpatterns = [
    path("api/storages/", _view(api.AllStoragesApi, side="import")),
    path("api/storages/export/", _view(api.AllStoragesApi, side="export")),
    path("api/storages/types/", _view(api.StorageTypesApi)),
    path("api/storages/export/types/", _view(api.StorageTypesApi)),
]
for _kind in KINDS:
    for _side, _base in (
        ("import", f"api/storages/{_kind}"),
        ("export", f"api/storages/export/{_kind}"),
    ):
        _kw = {"side": _side, "kind": _kind}
        urlpatterns += [
            path(f"{_base}/", _view(api.StorageListApi, **_kw)),
            path(f"{_base}/validate/", _view(api.StorageValidateApi, **_kw)),
            path(f"{_base}/form/", _view(api.StorageFormApi, **_kw)),
            path(f"{_base}/<int:pk>/", _view(api.StorageDetailApi, **_kw)),
            path(f"{_base}/<int:pk>/sync/", _view(api.StorageSyncApi, **_kw)),
        ]
        if _side == "import":
            urlpatterns.append(path(f"{_base}/files/", _view(api.StorageFilesApi, **_kw)))

# Label Studio's proxy paths, outside /api/ (so not covered by the trailing-slash
# middleware): answered with and without the slash, as its clients use both.
for _slash in ("/", ""):
    urlpatterns += [
        path(f"tasks/<int:task_id>/resolve{_slash}", api.TaskResolveApi.as_view()),
        path(f"tasks/<int:task_id>/presign{_slash}", api.TaskResolveApi.as_view()),
        path(f"projects/<int:project_id>/resolve{_slash}", api.ProjectResolveApi.as_view()),
        path(f"projects/<int:project_id>/presign{_slash}", api.ProjectResolveApi.as_view()),
    ]
urlpatterns += [
    path("api/projects/<int:pk>/presign/", api.PresignApi.as_view()),
    path("storage-data/uploaded/", api.UploadedFileApi.as_view()),
    path("data/local-files/", api.LocalFilesApi.as_view()),
]
