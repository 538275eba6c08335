"""URL patterns, included at the root by labelhub/urls.py (full paths, api/ included)."""

urlpatterns: list = []
