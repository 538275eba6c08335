"""Fixtures shared by every test: users in each role, a project, and API clients."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from projects.models import ProjectMember
from projects.services import member_set, project_create, project_creator_allow

TEXT_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/>
  </Choices>
</View>"""

IMAGE_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Cat"/><Label value="Dog"/>
  </RectangleLabels>
</View>"""


def choice(value: str, *, result_id: str = "r1") -> list[dict]:
    return [
        {
            "id": result_id,
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [value]},
        }
    ]


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
    """DRF's throttle counts live in the process cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
