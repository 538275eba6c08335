"""The API's located error: a 400 (by default) with a summary and a list of errors.

Kept apart from ``labelhub.errors`` (the exception handler), which imports DRF's views:
the JSON parser raises ``ApiError``, and DRF's views import the parsers.
"""

from rest_framework import exceptions, status

MAX_ERRORS = 100


class ApiError(exceptions.APIException):
    """A 400 (by default) carrying a summary and a list of located errors."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Invalid input."

    def __init__(
        self,
        detail: str,
        errors: list[dict] | None = None,
        status_code: int | None = None,
        *,
        validation_errors: dict[str, list[str]] | None = None,
    ):
        super().__init__(detail)
        self.errors = (errors or [])[:MAX_ERRORS]
        # Label Studio's ``{"validation_errors": {field: [message]}}``, added to the body
        # where its clients read it (a refused label config).
        self.validation_errors = validation_errors
        if status_code is not None:
            self.status_code = status_code
