"""``url=`` imports: the fetch, and the SSRF protection that is on by default."""

import ipaddress

import pytest

from importers import ssrf
from labelhub.errors import ApiError
from tasks.models import Task
from tests.factories import assert_nothing_written, import_url

pytestmark = pytest.mark.django_db

TASKS = b'[{"text": "fetched one"}, {"text": "fetched two"}]'


def post_url(api, project, address: str, *, as_query: bool = False):
    if as_query:
        return api.post(f"{import_url(project)}?url={address}")
    return api.post(import_url(project), {"url": address}, format="multipart")


@pytest.fixture
def allow_localhost(settings):
    settings.LABELHUB_SSRF_ALLOWED_HOSTS = ["localhost"]


def test_fetches_json_from_an_allowed_host(api, project, http_server, allow_localhost):
    http_server.routes["/tasks.json"] = (200, {"Content-Type": "application/json"}, TASKS)
    address = http_server.base.replace("127.0.0.1", "localhost") + "/tasks.json"
    response = post_url(api, project, address)
    assert response.status_code == 201, response.content
    assert sorted(t.data["text"] for t in Task.objects.filter(project=project)) == [
        "fetched one",
        "fetched two",
    ]


def test_url_as_a_query_parameter_and_type_from_content_type(
    api, project, http_server, allow_localhost
):
    http_server.routes["/export?format=csv"] = (
        200,
        {"Content-Type": "text/csv"},
        b"text\nfrom csv\n",
    )
    address = http_server.base.replace("127.0.0.1", "localhost") + "/export%3Fformat%3Dcsv"
    response = post_url(api, project, address, as_query=True)
    assert response.status_code == 201, response.content
    assert Task.objects.get(project=project).data == {"text": "from csv"}


@pytest.mark.parametrize(
    "address",
    [
        "http://127.0.0.1:{port}/tasks.json",
        "http://localhost:{port}/tasks.json",
        "http://[::1]:{port}/tasks.json",
        "http://10.1.2.3/tasks.json",
        "http://192.168.0.1/tasks.json",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]:{port}/tasks.json",
        "http://0.0.0.0:{port}/tasks.json",
        "http://100.64.0.1/tasks.json",
        "http://224.0.0.1/tasks.json",
    ],
)
def test_private_addresses_are_refused_by_default(api, project, http_server, address):
    http_server.routes["/tasks.json"] = (200, {}, TASKS)
    response = post_url(api, project, address.format(port=http_server.server_address[1]))
    assert response.status_code == 400, response.content
    assert "non-public" in response.json()["detail"]
    assert_nothing_written(project)


def test_redirect_to_a_private_address_is_refused(api, project, http_server, allow_localhost):
    port = http_server.server_address[1]
    http_server.routes["/tasks.json"] = (200, {}, TASKS)
    http_server.routes["/go"] = (302, {"Location": f"http://127.0.0.1:{port}/tasks.json"}, b"")
    response = post_url(api, project, f"http://localhost:{port}/go")
    assert response.status_code == 400
    assert "127.0.0.1" in response.json()["detail"]
    assert_nothing_written(project)


def test_redirects_between_allowed_hosts_are_followed(api, project, http_server, allow_localhost):
    port = http_server.server_address[1]
    http_server.routes["/tasks.json"] = (200, {}, TASKS)
    http_server.routes["/go"] = (301, {"Location": "/tasks.json"}, b"")
    assert post_url(api, project, f"http://localhost:{port}/go").status_code == 201


def test_redirect_loop_stops(api, project, http_server, allow_localhost):
    port = http_server.server_address[1]
    http_server.routes["/loop"] = (302, {"Location": "/loop"}, b"")
    response = post_url(api, project, f"http://localhost:{port}/loop")
    assert response.status_code == 400 and "redirects" in response.json()["detail"]


def test_dns_is_resolved_once_and_the_vetted_address_is_used(
    api, project, monkeypatch, http_server
):
    """DNS rebinding: the first answer is public, a second lookup would say loopback. The
    fetch must connect to the first answer and never ask again."""
    answers = [["93.184.216.34"], ["127.0.0.1"]]
    asked, connected = [], []
    monkeypatch.setattr(
        ssrf, "resolve", lambda host, port: asked.append(host) or answers[len(asked) - 1]
    )
    import urllib3

    from labelhub import ssrf as core

    real_pool = core.pool

    def pool(scheme, address, port, host, timeout):
        connected.append(address)
        return real_pool(scheme, address, port, host, urllib3.Timeout(connect=0.5, read=0.5))

    monkeypatch.setattr(core, "pool", pool)
    response = post_url(api, project, "http://rebind.example/tasks.json")
    assert asked == ["rebind.example"]
    assert connected == ["93.184.216.34"]
    assert response.status_code == 400  # that public address is not reachable from the tests
    assert_nothing_written(project)


def test_size_limit(api, project, http_server, allow_localhost, settings):
    settings.LABELHUB_IMPORT_URL_MAX_SIZE = 10
    http_server.routes["/tasks.json"] = (200, {}, TASKS)
    response = post_url(
        api, project, http_server.base.replace("127.0.0.1", "localhost") + "/tasks.json"
    )
    assert response.status_code == 413
    assert_nothing_written(project)


def test_http_error_and_bad_scheme(api, project, http_server, allow_localhost):
    response = post_url(
        api, project, http_server.base.replace("127.0.0.1", "localhost") + "/missing.json"
    )
    assert response.status_code == 400 and "404" in response.json()["detail"]
    assert post_url(api, project, "file:///etc/passwd").status_code == 400
    assert post_url(api, project, "ftp://example.com/x.json").status_code == 400


def test_allow_list_accepts_networks(settings):
    settings.LABELHUB_SSRF_ALLOWED_HOSTS = ["10.0.0.0/8"]
    assert ssrf.vet("http://10.2.3.4/", "10.2.3.4", 80) == "10.2.3.4"
    with pytest.raises(ApiError):
        ssrf.vet("http://192.168.1.1/", "192.168.1.1", 80)


@pytest.mark.parametrize(
    "address, public",
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::", False),
        ("fd00:ec2::254", False),
    ],
)
def test_is_public(address, public):
    assert ssrf.is_public(ipaddress.ip_address(address)) is public
