"""A small client for Label Studio's REST API, for the migration.

Every request goes to the address vetted by the one SSRF rule (``labelhub.ssrf``):
Label Studio on a private or loopback address is refused unless an admin lists it in
``LABELHUB_SSRF_ALLOWED_HOSTS``. Redirects are not followed.

Authentication, as Label Studio 1.23 takes it:

- a legacy token (``Authorization: Token <key>``);
- a personal access token, which is a JWT *refresh* token: it is exchanged at
  ``POST /api/token/refresh/`` for a short-lived access token sent as
  ``Authorization: Bearer <access>``; a 401 later on exchanges it again once.
"""

import datetime
import json
import shutil
import tempfile
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import urllib3
from django.conf import settings

from labelhub import ssrf as guard


class MigrationError(Exception):
    """A problem the admin can act on; the message says what and where."""


def normalize_url(url: str) -> str:
    url = (url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MigrationError(f"The Label Studio URL must be http(s)://host[:port], not {url!r}.")
    if parts.username or parts.password:
        raise MigrationError("Give the token with --token, not inside the URL.")
    return url


def _refuse(url: str, why: str) -> MigrationError:
    return MigrationError(f"Cannot connect to Label Studio at {url}: {why}.")


def looks_like_jwt(token: str) -> bool:
    parts = token.split(".")
    return len(parts) == 3 and all(parts) and token.startswith("ey")


class LabelStudioClient:
    TIMEOUT = 600.0  # a full export of a large project takes minutes

    def __init__(self, url: str, token: str) -> None:
        self.url = normalize_url(url)
        self.token = (token or "").strip()
        if not self.token:
            raise MigrationError("A Label Studio token is needed (--token).")
        parts = urlsplit(self.url)
        self.scheme = parts.scheme
        self.host = parts.hostname or ""  # normalize_url made sure there is one
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.prefix = parts.path
        self.address = guard.vet(
            self.url,
            self.host,
            self.port,
            allowed=settings.LABELHUB_SSRF_ALLOWED_HOSTS,
            refuse=_refuse,
            allow_setting="LABELHUB_SSRF_ALLOWED_HOSTS",
        )
        self.pool = guard.pool(
            self.scheme,
            self.address,
            self.port,
            self.host,
            urllib3.Timeout(connect=10.0, read=self.TIMEOUT),
        )
        self.host_header = guard.host_header(self.host, parts.port)
        self.pat = looks_like_jwt(self.token)
        self.access: str | None = None
        self.requests = 0
        self.waited = 0.0  # seconds spent waiting for Label Studio (reported with the time)
        # Label Studio's clock (the Date header of its last answer, whole seconds)
        self.server_time: datetime.datetime | None = None

    # ------------------------------------------------------------------ auth
    def _authorization(self) -> str:
        if not self.pat:
            return f"Token {self.token}"
        if self.access is None:
            self._refresh()
        return f"Bearer {self.access}"

    def _refresh(self) -> None:
        response = self._raw(
            "POST",
            "/api/token/refresh/",
            body=json.dumps({"refresh": self.token}).encode(),
            headers={"Content-Type": "application/json"},
            auth=False,
        )
        if response.status != 200:
            raise MigrationError(
                f"Label Studio at {self.url} did not accept the personal access token "
                f"(HTTP {response.status} from /api/token/refresh/): check --token."
            )
        self.access = json.loads(response.data)["access"]

    # ------------------------------------------------------------------ requests
    def _raw(self, method, path, *, body=None, headers=None, auth=True, stream=False):
        all_headers = {
            "Host": self.host_header,
            "Accept": "application/json",
            "User-Agent": "LabelHub-migration",
            **(headers or {}),
        }
        if auth:
            all_headers["Authorization"] = self._authorization()
        self.requests += 1
        try:
            response = self.pool.urlopen(
                method,
                self.prefix + path,
                body=body,
                headers=all_headers,
                redirect=False,
                retries=False,
                preload_content=not stream,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise MigrationError(
                f"Cannot reach Label Studio at {self.url} ({type(exc).__name__}): is it "
                "running, and is the URL right?"
            ) from None
        try:
            self.server_time = parsedate_to_datetime(response.headers.get("Date") or "")
        except (TypeError, ValueError):
            self.server_time = None
        return response

    def _request(self, path: str, params: dict | None = None, *, stream: bool = False):
        full = path + (f"?{urlencode(params, doseq=True)}" if params else "")
        response = self._raw("GET", full, stream=stream)
        if response.status == 401 and self.pat:
            response.release_conn()
            self._refresh()  # the access token expired
            response = self._raw("GET", full, stream=stream)
        if response.status in (401, 403):
            said = ""
            try:
                said = json.loads(response.data).get("detail") or ""
            except (ValueError, AttributeError):
                pass
            raise MigrationError(
                f"Label Studio at {self.url} refused the token (HTTP {response.status} on "
                f"{path}{': ' + said if said else ''}): check --token (a legacy token or a "
                "personal access token of an owner or administrator)."
            )
        if response.status != 200:
            text = (response.data or b"")[:300].decode("utf-8", "replace") if not stream else ""
            raise MigrationError(
                f"Label Studio at {self.url} answered HTTP {response.status} on {path}"
                + (f": {text}" if text else "")
            )
        return response

    def get(self, path: str, **params):
        started = time.monotonic()
        response = self._request(path, params or None)
        self.waited += time.monotonic() - started
        try:
            return json.loads(response.data)
        except ValueError:
            raise MigrationError(
                f"{self.url}{path} did not answer JSON: is this a Label Studio server?"
            ) from None

    def pages(self, path: str, page_size: int = 100, **params):
        """Every item of a paginated list (``{"results": [...], "next": ...}``) or of a
        plain list."""
        page = 1
        while True:
            body = self.get(path, page=page, page_size=page_size, **params)
            if isinstance(body, list):
                yield from body
                return
            yield from body.get("results") or []
            if not body.get("next"):
                return
            page += 1

    def download(self, path: str, target: Path, params: dict | None = None) -> float:
        """Stream a response body to ``target``; returns the seconds it took."""
        started = time.monotonic()
        response = self._request(path, params, stream=True)
        try:
            with open(target, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
        finally:
            response.release_conn()
        elapsed = time.monotonic() - started
        self.waited += elapsed
        return elapsed

    def temp_download(self, path: str, params: dict | None = None) -> Path:
        handle = tempfile.NamedTemporaryFile(prefix="lsmigrate-", suffix=".json", delete=False)
        handle.close()
        target = Path(handle.name)
        try:
            self.download(path, target, params)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return target

    def close(self) -> None:
        self.pool.close()
