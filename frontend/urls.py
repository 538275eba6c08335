from django.urls import path

from frontend import views

urlpatterns = [
    path("", views.home, name="home"),
    path("user/login/", views.login_view, name="login"),
    path("user/logout/", views.logout_view, name="logout"),
    path("projects/", views.projects_page, name="projects"),
]
