"""Fixtures shared by every test: users in each role, a project, and API clients."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from labelhub import registrations
from projects.models import ProjectMember
from projects.services import member_set, project_create, project_creator_allow
from tests.factories import TEXT_CONFIG


@pytest.fixture(autouse=True, scope="session")
def _registrations_loaded():
    """The apps' registrations (job kinds, subscribers, migration steps...) loaded before
    the first test, as the web server and the worker load them before their first
    request and task (``labelhub.registrations``); tests/test_footprint.py checks that
    each registry loads them itself after a bare ``django.setup()``."""
    registrations.load()


@pytest.fixture(autouse=True, scope="session")
def _live_server_answers_as_gunicorn_does():
    """pytest-django's live server (the browser tests) answers through
    ``labelhub.wsgi.Handler``, the handler gunicorn runs, not Django's plain one: the
    pages, sign-in, CSRF and messages are then tested with its per-request cleanup."""
    from django.test import testcases

    from labelhub.wsgi import Handler

    original = testcases.WSGIHandler
    testcases.WSGIHandler = Handler
    yield
    testcases.WSGIHandler = original


@pytest.fixture
def make_user(db):
    def make(email: str, *, staff: bool = False, password: str = "pass-word-1"):
        return get_user_model().objects.create_user(
            username=email, email=email, password=password, is_staff=staff
        )

    return make


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.com", staff=True)


@pytest.fixture
def owner(make_user):
    """A non-staff user whom an admin has allowed to create projects."""
    return project_creator_allow(user=make_user("owner@example.com"), allowed=True)


@pytest.fixture
def reviewer(make_user):
    return make_user("reviewer@example.com")


@pytest.fixture
def annotator(make_user):
    return make_user("annotator@example.com")


@pytest.fixture
def outsider(make_user):
    return make_user("outsider@example.com")


@pytest.fixture
def project(owner, reviewer, annotator):
    project = project_create(user=owner, title="Sentiment", label_config=TEXT_CONFIG)
    member_set(project=project, user=reviewer, role=ProjectMember.Role.REVIEWER)
    member_set(project=project, user=annotator, role=ProjectMember.Role.ANNOTATOR)
    return project


@pytest.fixture
def client_for():
    """An APIClient authenticated with the user's token (as scripts and the SDK are)."""

    def make(user) -> APIClient:
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def api(client_for, owner):
    return client_for(owner)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2's deliberate slowness costs ~0.3 s per user; tests don't need it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """The throttles' counts live in the process (its cache, ``labelhub.auth``'s windows);
    each test starts with none."""
    from django.core.cache import cache

    from labelhub.auth import throttle_windows_clear

    cache.clear()
    throttle_windows_clear()
    yield
    cache.clear()
    throttle_windows_clear()


@pytest.fixture
def make_project(owner):
    """``make_project(config, title)``: a project with ``owner`` as admin (the browser tests
    override it with one that also imports tasks)."""

    def make(config: str, title: str = "p"):
        return project_create(user=owner, title=title, label_config=config)

    return make


@pytest.fixture
def jobs_inline():
    """Background jobs run in-process when enqueued (Celery's eager mode); tests run the
    commit callbacks with ``django_capture_on_commit_callbacks(execute=True)``."""
    from labelhub.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def pg(db):
    """For tests marked ``postgres``: fail, never skip, when the database is not PostgreSQL
    (the SQLite pass deselects them with -m 'not postgres')."""
    assert connection.vendor == "postgresql", "this test needs DATABASE_URL to point at PostgreSQL"


def pytest_collection_modifyitems(config, items):
    """Tests marked ``labelstudio`` start a real Label Studio (minutes): they run only when
    the ``-m`` expression names them (``make compat``), never in ``make test``."""
    if "labelstudio" in (config.getoption("markexpr") or ""):
        return
    kept = [item for item in items if item.get_closest_marker("labelstudio") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
