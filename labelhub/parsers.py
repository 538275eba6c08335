"""The JSON parser for API bodies: the nesting limit first, then DRF's own parser.

DRF's JSONParser hands the stream to Python's ``json``, which raises RecursionError (a
500) on deep nesting and builds every level in memory first. The body is scanned for
nesting (``labelhub.jsonlimits``) before it is parsed, so a deep body is a 400 naming
the line. Past the check, parsing is DRF's exactly (big integers stay integers).
"""

import codecs
import io

from django.conf import settings
from rest_framework.parsers import JSONParser

from labelhub.jsonlimits import check_bytes


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        try:
            is_utf8 = codecs.lookup(encoding).name == "utf-8"
        except LookupError:
            is_utf8 = True
        check_bytes(raw if is_utf8 else raw.decode(encoding, "replace"), "request body")
        return super().parse(io.BytesIO(raw), media_type, parser_context)
