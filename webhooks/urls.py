from django.urls import path

from webhooks import api

urlpatterns = [
    path("api/webhooks/", api.WebhookListApi.as_view()),
    path("api/webhooks/info/", api.WebhookInfoApi.as_view()),
    path("api/webhooks/<int:pk>/", api.WebhookDetailApi.as_view()),
]
