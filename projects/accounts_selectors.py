"""Reads for users, the organization and personal access tokens."""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from projects.models import Organization, ProjectMember, UserProfile

ORGANIZATION_ID = 1
AVATAR_URL = "/data/avatars/"


def organization() -> Organization:
    """The organization, or its defaults (unsaved) before anything wrote it."""
    return Organization.objects.order_by("pk").first() or Organization(
        pk=ORGANIZATION_ID, title="LabelHub", token=""
    )


def users_visible_to(user) -> QuerySet:
    """The active users ``user`` may see: everyone for staff; else themselves and the
    users they share a project with (as ``GET /api/users``)."""
    users = get_user_model().objects.filter(is_active=True).order_by("id")
    if user.is_staff:
        return users
    mine = ProjectMember.objects.filter(user=user).values("project")
    # A member added by email shows to co-members only as the invitation as typed
    # (projects.services.member_invite): listing them here would tell who has an account.
    shared = Q(memberships__project__in=mine, memberships__invited_email="")
    return users.filter(Q(pk=user.pk) | shared).distinct()


def profile_load(user) -> None:
    """Read the user's profile into its cache, unless it is there already."""
    if "profile" not in user._state.fields_cache:
        user._state.fields_cache["profile"] = UserProfile.objects.filter(user=user).first()


def avatar_url(user) -> str | None:
    """The user's avatar URL. Reads the profile only when it was ``select_related`` (or
    already read), so a list of users costs no query per user."""
    profile = user._state.fields_cache.get("profile")
    return f"{AVATAR_URL}{profile.avatar}" if profile is not None and profile.avatar else None


def custom_hotkeys(user) -> dict:
    profile = user._state.fields_cache.get("profile")
    return dict(profile.custom_hotkeys) if profile is not None else {}


def api_tokens(*, user) -> list[OutstandingToken]:
    """The user's personal access tokens that still work: not expired, not blacklisted."""
    return list(
        OutstandingToken.objects.filter(
            user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
        ).order_by("id")
    )
