"""Template context for every page."""

from django.conf import settings


def editor(request) -> dict:
    """Which labeling editor the pages embed: ``"1.23"`` (Label Studio 1.23.2's, the
    default) or ``"1.4"`` (the 2022 npm build, kept as a fallback)."""
    return {"labelhub_editor": settings.LABELHUB_EDITOR}
