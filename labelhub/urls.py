from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from annotations import api as annotations_api
from exporters import api as exporters_api
from importers import api as importers_api
from projects import api as projects_api
from tasks import api as tasks_api

api = [
    path("version/", projects_api.VersionApi.as_view()),
    path("current-user/whoami/", projects_api.WhoAmIApi.as_view()),
    path("current-user/token/", projects_api.TokenApi.as_view()),
    path("users/", projects_api.UserListApi.as_view()),
    path("users/<int:pk>/", projects_api.UserDetailApi.as_view()),
    path("projects/", projects_api.ProjectListApi.as_view()),
    path("projects/validate/", projects_api.ProjectValidateApi.as_view()),
    path("projects/<int:pk>/", projects_api.ProjectDetailApi.as_view()),
    path("projects/<int:pk>/validate/", projects_api.ProjectValidateApi.as_view()),
    path("projects/<int:pk>/members/", projects_api.ProjectMembersApi.as_view()),
    path("projects/<int:pk>/import/", importers_api.ProjectImportApi.as_view()),
    path("projects/<int:pk>/export/", exporters_api.ProjectExportApi.as_view()),
    path("tasks/", tasks_api.TaskListApi.as_view()),
    path("tasks/<int:pk>/", tasks_api.TaskDetailApi.as_view()),
    path("tasks/<int:pk>/annotations/", annotations_api.TaskAnnotationsApi.as_view()),
    path("annotations/<int:pk>/", annotations_api.AnnotationDetailApi.as_view()),
    path("annotations/<int:pk>/reviews/", annotations_api.AnnotationReviewsApi.as_view()),
    path("predictions/", annotations_api.PredictionListApi.as_view()),
    path("predictions/<int:pk>/", annotations_api.PredictionDetailApi.as_view()),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema")),
]

urlpatterns = [
    path("api/", include(api)),
    path("", include("importers.urls")),
    path("", include("tasks.stream_urls")),
    path("", include("tasks.dm_urls")),
    path("", include("frontend.dm_urls")),
    path("", include("frontend.urls")),
]

handler404 = "labelhub.errors.json_404"
handler500 = "labelhub.errors.json_500"
