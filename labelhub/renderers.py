"""The API's JSON renderer: DRF's answer, written by orjson.

DRF's ``JSONRenderer`` runs ``json.dumps`` with its encoder class: for a task-list page
of 30 rows (28 KB) that was about 0.4 ms of the request at load average 13, against
0.04 ms for orjson. This renderer gives the same JSON document: compact separators,
non-ASCII as is, U+2028/U+2029 escaped, and everything orjson does not write the same way
(datetimes, dates and times with DRF's ``Z``, Decimal, lazy strings, querysets...) handed to
DRF's own encoder (``default``). Anything orjson refuses (an integer past 64 bits, a
non-string key it cannot convert) and any indented answer (``; indent=N``) go through
DRF's renderer unchanged.
"""

import orjson
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)
_LINE_SEPARATORS = ((b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"))


class FastJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=JSONEncoder().default, option=_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            return super().render(data, accepted_media_type, renderer_context)
        for raw, escaped in _LINE_SEPARATORS:
            if raw in body:
                body = body.replace(raw, escaped)
        return body


class FastContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, with the usual request answered without parsing: no ``Accept``
    header, ``*/*`` (what ``requests`` and ``curl`` send) or ``application/json``, and no
    ``?format=``. DRF's answer for those is the view's first renderer with its own media
    type (for ``application/json``, when that renderer writes it); this gives the same.
    Anything else goes to DRF. Parsing the header was about 5% of a small request's
    time (cProfile of the next-task call)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT")
        if (
            renderers
            and not format_suffix
            and accept in _PLAIN_ACCEPT
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            renderer = renderers[0]
            if accept != "application/json" or renderer.media_type == accept:
                return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)


_PLAIN_ACCEPT = frozenset((None, "*/*", "application/json"))
