"""Template context for every page."""

from django.conf import settings


def editor(request) -> dict:
    """Which labeling editor the pages embed: ``"1.23"`` (Label Studio 1.23.2's, the
    default) or ``"1.4"`` (the 2022 npm build, kept as a fallback), and the static folder
    of its files (named by its version)."""
    return {
        "labelhub_editor": settings.LABELHUB_EDITOR,
        "editor_files": settings.LABELHUB_EDITOR_FILES[settings.LABELHUB_EDITOR],
    }
