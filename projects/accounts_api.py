"""The account endpoints of Label Studio 1.23: avatars, hotkeys, product tours, the one
organization and its members, invites, personal access tokens and their settings.

Who may do what: everyone signed in manages their own avatar, hotkeys, tours and
tokens; staff (LabelHub's admins) change the organization, its token settings and its
members, and see the invite link. A non-staff user sees only the members they share a
project with, as ``GET /api/users``.
"""

import mimetypes
import re

import orjson
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.utils import datetime_from_epoch

from labelhub.errors import ApiError
from labelhub.pagination import MAX_PAGE_SIZE, count_next_previous, paginate
from labelhub.params import is_true
from labelhub.validation import MAX_ID
from projects import accounts_selectors as selectors
from projects import accounts_services as services
from projects.api import member_user_dict
from projects.models import Organization, ProductTour, Project, UserProfile

SIGNUP_PATH = "/user/signup/"


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _staff_only(request, what: str) -> None:
    if not request.user.is_staff:
        raise PermissionDenied(f"Only administrators {what}.")


# --------------------------------------------------------------------------- avatars


class UserAvatarApi(APIView):
    """``POST /api/users/{id}/avatar/`` (multipart, the first file) and ``DELETE``: one's
    own avatar; staff may change anyone's."""

    def _user(self, request, pk: int):
        if pk != request.user.pk and not request.user.is_staff:
            raise NotFound("Not found.")
        user = (
            selectors.users_visible_to(request.user).filter(pk=pk).first() if pk <= MAX_ID else None
        )
        if user is None:
            raise NotFound("Not found.")
        return user

    def post(self, request, pk):
        user = self._user(request, pk)
        upload = next(iter(request.FILES.values()), None)
        url = services.avatar_set(user=user, upload=upload)
        return Response({"detail": "avatar saved", "avatar": url})

    def delete(self, request, pk):
        services.avatar_clear(user=self._user(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


_AVATAR_NAME = re.compile(r"^[0-9a-f]{32}(_[A-Za-z0-9]{1,16})?\.(png|jpg)$")


class AvatarFileView(APIView):
    """``GET /data/avatars/{name}``: an avatar, for anyone signed in (names are random)."""

    def get(self, request, name: str):
        if not _AVATAR_NAME.match(name):
            raise Http404
        if not UserProfile.objects.filter(avatar=name).exists():
            raise Http404
        key = f"{services.AVATAR_FOLDER}/{name}"
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        response = FileResponse(default_storage.open(key, "rb"), content_type=content_type)
        response["Cache-Control"] = "private, max-age=3600"
        return response


# --------------------------------------------------------------------------- hotkeys


DANGEROUS_KEYS = frozenset(
    {
        "ctrl+alt+delete",
        "cmd+alt+escape",
        "alt+f4",
        "ctrl+alt+esc",
        "cmd+option+esc",
        "ctrl+shift+esc",
        "cmd+shift+q",
        "alt+tab",
        "cmd+tab",
        "ctrl+alt+t",
        "cmd+space",
    }
)
KEY_CHARS = re.compile(r"^[a-zA-Z0-9+\-\s\[\]\\;'\".,/`~!@#$%^&*()_={}|:<>?]+$")
MAX_HOTKEYS = 200
MAX_HOTKEYS_BYTES = 64 * 1024


def hotkeys_check(value) -> dict:
    """Label Studio's rules for ``custom_hotkeys``: ``{"section:action": {"key": "ctrl+s",
    "active": true}}``, at most 200 entries, short keys of keyboard characters, no
    system shortcuts; and at most 64 KB in all."""
    if not isinstance(value, dict):
        raise serializers.ValidationError("custom_hotkeys must be a dictionary")
    if len(value) > MAX_HOTKEYS:
        raise serializers.ValidationError(f"Cannot define more than {MAX_HOTKEYS} custom hotkeys")
    if len(orjson.dumps(value)) > MAX_HOTKEYS_BYTES:
        raise serializers.ValidationError(
            f"custom_hotkeys is larger than {MAX_HOTKEYS_BYTES} bytes"
        )
    for action, data in value.items():
        section, _, name = action.partition(":")
        if not action or len(action) > 100 or not section.strip() or not name.strip():
            raise serializers.ValidationError(
                f"Action key '{action[:100]}' must be 'section:action', at most 100 characters"
            )
        if not isinstance(data, dict) or "key" not in data:
            raise serializers.ValidationError(f"Missing 'key' in hotkey data for '{action}'")
        key = data["key"]
        if not isinstance(key, str) or not key or len(key) > 50:
            raise serializers.ValidationError(
                f"Key combination for '{action}' must be a string of 1 to 50 characters"
            )
        if key.lower().strip() in DANGEROUS_KEYS:
            raise serializers.ValidationError(
                f"Key combination '{key}' is not allowed for security reasons"
            )
        if not KEY_CHARS.match(key):
            raise serializers.ValidationError(
                f"Key combination '{key}' for '{action}' contains invalid characters"
            )
        if "active" in data and not isinstance(data["active"], bool):
            raise serializers.ValidationError(f"Active flag for '{action}' must be a boolean")
    return value


class HotkeysIn(serializers.Serializer):
    custom_hotkeys = serializers.JSONField(validators=[hotkeys_check])


class HotkeysApi(APIView):
    def get(self, request):
        profile = UserProfile.objects.filter(user=request.user).first()
        return Response({"custom_hotkeys": profile.custom_hotkeys if profile else {}})

    def patch(self, request):
        data = HotkeysIn(data=request.data)
        data.is_valid(raise_exception=True)
        hotkeys = services.hotkeys_set(
            user=request.user, hotkeys=data.validated_data["custom_hotkeys"]
        )
        return Response({"custom_hotkeys": hotkeys})


# --------------------------------------------------------------------------- product tours

# Label Studio's tour names. LabelHub's pages run none of these tours (they belong to
# Label Studio's own UI), so their steps are empty; the per-user state is kept for real.
PRODUCT_TOURS = frozenset({"create_prompt", "prompts_page", "show_ask_ai", "show_autolabel_button"})


class InteractionData(serializers.Serializer):
    index = serializers.IntegerField(required=False, allow_null=True)
    action = serializers.CharField(required=False, allow_null=True, max_length=200)
    type = serializers.CharField(required=False, allow_null=True, max_length=200)
    status = serializers.CharField(required=False, allow_null=True, max_length=200)
    additional_data = serializers.DictField(required=False)

    def validate_additional_data(self, value):
        if len(orjson.dumps(value)) > 16 * 1024:
            raise serializers.ValidationError("is larger than 16 KB")
        return value


class ProductTourIn(serializers.Serializer):
    state = serializers.ChoiceField(choices=ProductTour.State.values, required=False)
    interaction_data = InteractionData(required=False)


def _tour_name(request) -> str:
    name = (request.query_params.get("name") or "").replace("-", "_").lower()
    if not name:
        raise ApiError("Name is required", [{"field": "name", "message": "required"}])
    if name not in PRODUCT_TOURS:
        message = f"Product tour {name[:64]} not found. Available tours: {sorted(PRODUCT_TOURS)}"
        raise ApiError(message, [{"field": "name", "message": message}])
    return name


def tour_dict(tour: ProductTour) -> dict:
    return {
        "id": tour.pk,
        "user": tour.user_id,
        "name": tour.name,
        "state": tour.state,
        "interaction_data": tour.interaction_data,
        "created_at": _iso(tour.created_at),
        "updated_at": _iso(tour.updated_at),
        "steps": [],
        "awaiting": False,
    }


class ProductTourApi(APIView):
    """``GET|PATCH /api/current-user/product-tour?name=...``: the caller's tour state."""

    def get(self, request):
        return Response(
            tour_dict(services.product_tour_get(user=request.user, name=_tour_name(request)))
        )

    def patch(self, request):
        name = _tour_name(request)
        data = ProductTourIn(data=request.data)
        data.is_valid(raise_exception=True)
        tour = services.product_tour_update(
            user=request.user, name=name, fields=dict(data.validated_data)
        )
        return Response(tour_dict(tour))

    put = patch


# --------------------------------------------------------------------------- organization


def _organization(pk) -> Organization:
    org = selectors.organization()
    if pk != org.pk:
        raise NotFound("Not found.")
    return org


def organization_short(org: Organization) -> dict:
    return {
        "id": org.pk,
        "title": org.title,
        "contact_info": org.contact_info or None,
        "created_at": _iso(org.created_at),
    }


class OrganizationListApi(APIView):
    def get(self, request):
        return Response([organization_short(selectors.organization())])


class OrganizationIn(serializers.Serializer):
    title = serializers.CharField(max_length=1000, required=False)
    contact_info = serializers.EmailField(required=False, allow_null=True, allow_blank=True)


class OrganizationApi(APIView):
    """``GET|PATCH /api/organizations/{id}``. The invite token shows to staff only."""

    def _dict(self, request, org: Organization) -> dict:
        users = selectors.users_visible_to(request.user).values_list("pk", flat=True)
        return {
            "id": org.pk,
            "title": org.title,
            "token": org.token if request.user.is_staff else None,
            "users": list(users),
            "created_by": org.created_by_id,
            "created_at": _iso(org.created_at),
            "updated_at": _iso(org.updated_at),
            "contact_info": org.contact_info or None,
        }

    def get(self, request, pk):
        _organization(pk)
        # Made on first read, so the invite token shown is the one that works.
        return Response(self._dict(request, services.organization_ensure()))

    def patch(self, request, pk):
        _organization(pk)
        _staff_only(request, "change the organization")
        data = OrganizationIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if fields.get("contact_info") is None and "contact_info" in fields:
            fields["contact_info"] = ""
        return Response(self._dict(request, services.organization_update(fields=fields)))

    put = patch


def _projects_of(user_ids: list[int]) -> dict[int, list[dict]]:
    created: dict[int, list[dict]] = {}
    rows = Project.objects.filter(created_by_id__in=user_ids).order_by("id")
    for pk, title, by in rows.values_list("id", "title", "created_by_id"):
        created.setdefault(by, []).append({"id": pk, "title": title})
    return created


def member_dict(user, *, created: dict | None) -> dict:
    """An organization membership as Label Studio shows it. The membership id is the
    user's id: LabelHub keeps no membership rows (every active user is a member)."""
    projects = None if created is None else created.get(user.pk, [])
    return {
        "id": user.pk,
        "organization": selectors.ORGANIZATION_ID,
        "user": {
            **member_user_dict(user),
            "username": user.username,
            "initials": initials(user),
            "date_joined": _iso(user.date_joined),
            "last_activity": _iso(user.last_login),
            "created_projects": projects,
            "contributed_to_projects": None,
        },
        "created_projects": projects,
        "contributed_to_projects": None,
        "created_at": _iso(user.date_joined),
    }


def initials(user) -> str:
    if user.first_name and user.last_name:
        return f"{user.first_name[:1]}{user.last_name[:1]}"
    return (user.first_name or user.last_name)[:1] or user.email[:2]


class OrganizationMembersApi(APIView):
    """``GET /api/organizations/{id}/memberships``: paginated (20 a page, ``page_size=-1``
    for all, as Label Studio), ordered by username."""

    def get(self, request, pk):
        _organization(pk)
        users = (
            selectors.users_visible_to(request.user)
            .select_related("profile")
            .order_by("username", "id")
        )
        wanted = is_true(request.query_params.get("contributed_to_projects"), default=False)
        if request.query_params.get("page_size") == "-1":  # Label Studio's "all of them"
            items = list(users[:MAX_PAGE_SIZE])
            links = {"count": len(items), "next": None, "previous": None}
        else:
            # Past the last page: an empty page, not Label Studio's 404, so the SDK's pager
            # (which stops on an empty page and raises on a 404) ends (docs/compat.md).
            try:
                paginator, items = paginate(request, users, default_size=20)
                links = count_next_previous(request, paginator, items)
            except NotFound:
                items, links = [], {"count": users.count(), "next": None, "previous": None}
        created = _projects_of([u.pk for u in items]) if wanted else None
        return Response({**links, "results": [member_dict(u, created=created) for u in items]})


class OrganizationMemberApi(APIView):
    """``GET|DELETE /api/organizations/{id}/memberships/{user_id}/``. DELETE (staff) is
    Label Studio's soft delete: the same as ``DELETE /api/users/{id}/`` here."""

    def _user(self, request, user_pk):
        user = selectors.users_visible_to(request.user).select_related("profile")
        user = user.filter(pk=user_pk).first() if user_pk <= MAX_ID else None
        if user is None:
            raise NotFound("Member not found")
        return user

    def get(self, request, pk, user_pk):
        _organization(pk)
        user = self._user(request, user_pk)
        wanted = is_true(request.query_params.get("contributed_to_projects"), default=False)
        member = member_dict(user, created=_projects_of([user.pk]) if wanted else None)
        return Response(
            {
                "user": member["user"]["id"],
                "organization": member["organization"],
                "created_at": member["created_at"],
                "created_projects": member["created_projects"],
                "contributed_to_projects": None,
            }
        )

    def delete(self, request, pk, user_pk):
        _organization(pk)
        _staff_only(request, "remove members")
        user = self._user(request, user_pk)
        if user.pk == request.user.pk:
            return Response(
                {"detail": "User cannot soft delete self"},
                status=status.HTTP_405_METHOD_NOT_ALLOWED,
            )
        services.user_delete(user=user, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _invite(org: Organization) -> dict:
    return {"invite_url": f"{SIGNUP_PATH}?token={org.token}", "token": org.token}


class InviteApi(APIView):
    def get(self, request):
        _staff_only(request, "invite people")
        return Response(_invite(services.organization_ensure()))


class InviteResetApi(APIView):
    def post(self, request):
        _staff_only(request, "invite people")
        return Response(_invite(services.invite_token_reset()), status=status.HTTP_201_CREATED)


# --------------------------------------------------------------------------- tokens


class JwtSettingsIn(serializers.Serializer):
    api_tokens_enabled = serializers.BooleanField(required=False)
    legacy_api_tokens_enabled = serializers.BooleanField(required=False)
    api_token_ttl_days = serializers.IntegerField(min_value=1, max_value=200 * 365, required=False)


def jwt_settings_dict(org: Organization) -> dict:
    return {
        "api_tokens_enabled": org.api_tokens_enabled,
        "legacy_api_tokens_enabled": org.legacy_api_tokens_enabled,
        "api_token_ttl_days": org.api_token_ttl_days,
    }


class JwtSettingsApi(APIView):
    """``GET|POST /api/jwt/settings``: which kinds of API token work (staff change it)."""

    def get(self, request):
        return Response(jwt_settings_dict(selectors.organization()))

    def post(self, request):
        _staff_only(request, "change the token settings")
        data = JwtSettingsIn(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            jwt_settings_dict(services.organization_update(fields=dict(data.validated_data)))
        )


def _token_dict(*, token: str, created_at, expires_at) -> dict:
    return {"token": token, "created_at": _iso(created_at), "expires_at": _iso(expires_at)}


class ApiTokensApi(APIView):
    """``GET /api/token/``: the caller's live personal access tokens, without their
    signatures. ``POST``: a new one, shown whole this once (409 while one is live)."""

    def get(self, request):
        return Response(
            [
                _token_dict(token=t.token, created_at=t.created_at, expires_at=t.expires_at)
                for t in selectors.api_tokens(user=request.user)
            ]
        )

    def post(self, request):
        token = services.api_token_create(user=request.user)
        return Response(
            _token_dict(
                token=str(token),
                created_at=token.current_time,
                expires_at=datetime_from_epoch(token["exp"]),
            ),
            status=status.HTTP_201_CREATED,
        )


class RefreshIn(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class TokenRefreshApi(APIView):
    """``POST /api/token/refresh/`` ``{"refresh"}`` -> ``{"access"}``: no other sign-in
    needed; the refresh token is the credential."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'  # a bad refresh token is a 401, as simplejwt's

    def post(self, request):
        data = RefreshIn(data=request.data)
        data.is_valid(raise_exception=True)
        return Response({"access": services.access_token_for(raw=data.validated_data["refresh"])})


class TokenBlacklistApi(APIView):
    """``POST /api/token/blacklist/`` ``{"refresh"}``: 204, or 404 when the token is
    unknown or already blacklisted."""

    permission_classes = [AllowAny]

    def post(self, request):
        data = RefreshIn(data=request.data)
        data.is_valid(raise_exception=True)
        if not services.api_token_blacklist(user=request.user, raw=data.validated_data["refresh"]):
            return Response(
                {"detail": "Token is invalid or already blacklisted."},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRotateApi(APIView):
    """``POST /api/token/rotate/`` ``{"refresh"}``: blacklist it, answer a new one."""

    def post(self, request):
        data = RefreshIn(data=request.data)
        data.is_valid(raise_exception=True)
        token = services.api_token_rotate(user=request.user, raw=data.validated_data["refresh"])
        return Response({"refresh": str(token)})
