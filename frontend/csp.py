"""Content-Security-Policy headers for the HTML pages.

Every page allows scripts only from our own origin (``script-src 'self'``): the only
inline ``<script>`` elements are ``json_script`` data blocks (``type="application/json"``),
which browsers never execute, so they need no nonce.

Pages that embed the labeling editor relax what it needs, found by running each result
type in Chromium with a report listener (both editors, Label Studio 1.23.2's and the
1.4.0 fallback, ``LABELHUB_EDITOR=1.4``):

- ``style-src 'unsafe-inline'``: React, antd and Konva set ``style=`` attributes and
  insert ``<style>`` elements at run time;
- ``img-src``/``media-src`` ``*``, ``data:`` and ``blob:``: a task's images, audio and
  video live wherever its data points (S3, a CDN, ``/data/upload/``), as in Label
  Studio; antd's icons are data: URLs;
- ``connect-src *``: the audio player (wavesurfer) fetches the audio file with XHR to
  decode its waveform, from the same places;
- ``script-src 'wasm-unsafe-eval'`` (1.23 only): its audio player decodes audio with
  WebAssembly (``editor-ls/decode-audio.wasm``, compiled by ``WebAssembly.instantiate``).
  This keyword allows compiling WebAssembly and nothing else: ``eval``, ``new Function``
  and string timers stay refused;
- ``object-src * blob:`` (1.23 only): its ``<PDF>`` tag shows the document in an
  ``<embed>`` (the browser's PDF viewer), from wherever the task's data points, like
  ``img-src``/``media-src``; scripts stay ``'self'`` only, so an embedded document runs
  nothing in the page;
- ``worker-src 'self' blob:``: 1.23's audio decoding runs in a worker (``editor-ls/559.js``);
- no ``'unsafe-eval'``: the bundles' ``Function("return this")`` fallbacks (lodash,
  webpack, regenerator) run only when ``globalThis``/``self`` are missing, which they
  never are in a browser; the browser tests check that no violation is reported.
- 1.23's styles: its Tailwind sheet is inserted as a ``<style>`` element at load (as Label
  Studio's app does), covered by ``style-src 'unsafe-inline'`` above.

``frame-ancestors`` keeps pages out of other sites' frames; the config preview page is
framed by our own create and settings pages only.
"""

from functools import wraps

from django.conf import settings

BASE = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "frame-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

EDITOR = {
    **BASE,
    "script-src": "'self'" if settings.LABELHUB_EDITOR == "1.4" else "'self' 'wasm-unsafe-eval'",
    "style-src": "'self' 'unsafe-inline'",
    "object-src": "'none'" if settings.LABELHUB_EDITOR == "1.4" else "* blob:",
    "img-src": "* data: blob:",
    "media-src": "* data: blob:",
    "connect-src": "*",
    "worker-src": "'self' blob:",
}

EDITOR_FRAMED = {**EDITOR, "frame-ancestors": "'self'"}

# Swagger UI at /api/docs/ (drf-spectacular's split view: its script is a URL of ours):
# an inline <style> block, and data: images for its icons.
DOCS = {**BASE, "style-src": "'self' 'unsafe-inline'"}


def header(policy: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def csp(policy: dict[str, str] = BASE):
    """Decorate a view: send ``policy`` as its Content-Security-Policy."""
    value = header(policy)

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            response.headers.setdefault("Content-Security-Policy", value)
            return response

        return wrapped

    return decorate
