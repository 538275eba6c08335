"""Readers for task files: each takes an open binary file and yields task records.

Every reader streams, so memory stays flat however large the file is, and every error
is an ApiError naming the file and, where it can, the line and column.
"""

from labelhub.errors import ApiError


def file_error(filename: str, message: str, line: int | None = None, column: int | None = None):
    where = filename
    if line:
        where += f", line {line}"
        if column:
            where += f", column {column}"
    error: dict = {"file": filename, "line": line, "message": message}
    if column:
        error["column"] = column
    return ApiError(f"Could not read {where}: {message}", [error])
