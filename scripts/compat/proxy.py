"""A loopback proxy in front of one server under test, for Label Studio's tavern files.

The tavern files sign up and log in through ``/user/signup`` and ``/user/login`` and then
ride on the session cookie. The harness replaces that with an API token: the proxy answers
``/user/signup``, ``/user/login`` and ``/logout`` itself with a 302 (what the tests expect)
and adds ``Authorization: Token <key>`` to every other request it passes on. Pages (paths
outside ``/api/``) take no token, so for them the proxy sends the session cookie of a login
it made at start (``session_login``: the same ``/user/login/`` form on both servers). Responses come
back unchanged (redirects are not followed; a ``Location`` naming the target is rewritten to
the proxy so a client that follows it stays behind the proxy).
"""

import http.client
import http.cookiejar
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

AUTH_PATHS = ("/user/signup", "/user/login", "/logout")
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
}


def session_login(*, target: str, email: str, password: str) -> str:
    """Log in through the server's ``/user/login/`` form (Django's CSRF cookie and field);
    returns the ``Cookie`` header value to send with page requests ("" when it failed)."""
    jar = http.cookiejar.CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    url = f"{target.rstrip('/')}/user/login/"
    try:
        opener.open(url, timeout=60).read()
        csrf = next((c.value for c in jar if c.name == "csrftoken"), "")
        body = urllib.parse.urlencode(
            {"email": email, "password": password, "csrfmiddlewaretoken": csrf}
        ).encode()
        request = urllib.request.Request(url, data=body, headers={"Referer": url})
        opener.open(request, timeout=60).read()
    except urllib.error.HTTPError as exc:  # the 302 after a good login lands here
        if exc.code != 302:
            return ""
    except OSError:
        return ""
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        return ""
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def _handler(target: str, token: str, public: str, cookie: str):
    split = urlsplit(target)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet: the harness reports per test
            pass

        def _relay(self):
            path = urlsplit(self.path).path.rstrip("/")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if path in AUTH_PATHS:
                self.send_response(302)
                self.send_header("Location", "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers = {k: v for k, v in headers.items() if k.lower() not in ("host", "cookie")}
            headers["Host"] = split.netloc
            headers["Authorization"] = f"Token {token}"
            if cookie and not path.startswith("/api/"):
                headers["Cookie"] = cookie  # pages go by the session, not the token
            conn = http.client.HTTPConnection(split.hostname, split.port, timeout=300)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except OSError as exc:
                msg = f"compat proxy: {target} did not answer: {exc}".encode()
                self.send_response(502)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(msg)))
                self.end_headers()
                self.wfile.write(msg)
                return
            finally:
                conn.close()
            self.send_response_only(resp.status, resp.reason)
            for key, value in resp.getheaders():
                low = key.lower()
                if low in HOP_BY_HOP or low == "content-length":
                    continue
                if low == "set-cookie":
                    continue  # the token is the only credential; no session rides along
                if low == "location" and value.startswith(target):
                    value = public + value[len(target) :]
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _relay

    return Handler


def proxy_start(*, target: str, token: str, port: int, cookie: str = "") -> ThreadingHTTPServer:
    """Serve the proxy on 127.0.0.1:``port`` in a daemon thread; ``.shutdown()`` stops it."""
    public = f"http://127.0.0.1:{port}"
    handler = _handler(target.rstrip("/"), token, public, cookie)
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
