"""``labelhub.renderers.FastContentNegotiation`` answers as DRF's negotiation does."""

import pytest
from django.http import Http404
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from labelhub.renderers import FastContentNegotiation, FastJSONRenderer


class CsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"


ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/json; indent=4",
    "text/csv",
    "text/html",
    "text/html,application/xhtml+xml,*/*;q=0.8",
    "application/*",
    "image/png",
    "",
]
RENDERER_LISTS = [
    [FastJSONRenderer],
    [JSONRenderer, CsvRenderer],
    [CsvRenderer, JSONRenderer],
    [CsvRenderer],
    [JSONRenderer, BrowsableAPIRenderer],
]


def _answer(negotiation, accept, renderers, query, suffix):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get("/api/x/" + query, **headers))
    try:
        renderer, media_type = negotiation.select_renderer(
            request, [r() for r in renderers], format_suffix=suffix
        )
    except NotAcceptable:
        return "406"
    except Http404:  # a format no renderer writes
        return "404"
    return type(renderer), media_type


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize(
    "renderers", RENDERER_LISTS, ids=lambda rs: "+".join(r.__name__ for r in rs)
)
@pytest.mark.parametrize(
    "query,suffix", [("", None), ("?format=csv", None), ("?format=json", None), ("", "csv")]
)
def test_same_answer_as_drf(accept, renderers, query, suffix):
    want = _answer(DefaultContentNegotiation(), accept, renderers, query, suffix)
    assert _answer(FastContentNegotiation(), accept, renderers, query, suffix) == want
