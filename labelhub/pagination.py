"""Page-number pagination in Label Studio's two shapes."""

from django.core.paginator import EmptyPage, InvalidPage, Paginator
from rest_framework.exceptions import NotFound
from rest_framework.utils.urls import remove_query_param, replace_query_param

from labelhub.errors import ApiError

MAX_PAGE_SIZE = 1000
# The highest page number: its offset (page * MAX_PAGE_SIZE) must stay inside a bigint.
MAX_PAGE = 2**31 - 1


def _positive_int(request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(
            f"{name} must be a whole number", [{"field": name, "message": "not an integer"}]
        ) from exc
    if value < 1:
        raise ApiError(f"{name} must be 1 or more", [{"field": name, "message": "must be >= 1"}])
    if value > MAX_PAGE:
        raise ApiError(
            f"{name} is out of range", [{"field": name, "message": f"must be <= {MAX_PAGE}"}]
        )
    return value


def page_params(request, *, default_size: int = 100) -> tuple[int, int]:
    page = _positive_int(request, "page", 1)
    size = min(_positive_int(request, "page_size", default_size), MAX_PAGE_SIZE)
    return page, size


def paginate(request, queryset, *, default_size: int = 100, count: int | None = None):
    """Slice one page; a page past the end is a 404 (the LS SDK stops paging on it)."""
    page_number, size = page_params(request, default_size=default_size)
    paginator = Paginator(queryset, size)
    if count is not None:
        paginator.count = count  # a count the caller already has (cached_property)
    try:
        page = paginator.page(page_number)
    except (EmptyPage, InvalidPage) as exc:
        if page_number == 1:
            return paginator, []
        raise NotFound("Invalid page.") from exc
    return paginator, list(page.object_list)


def count_next_previous(request, paginator, items) -> dict:
    """``{count, next, previous}`` links, as DRF's PageNumberPagination gives them."""
    page_number, _ = page_params(request)
    url = request.build_absolute_uri()
    has_next = page_number < paginator.num_pages
    return {
        "count": paginator.count,
        "next": replace_query_param(url, "page", page_number + 1) if has_next else None,
        "previous": (
            None
            if page_number <= 1
            else remove_query_param(url, "page")
            if page_number == 2
            else replace_query_param(url, "page", page_number - 1)
        ),
    }
