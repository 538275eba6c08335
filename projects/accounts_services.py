"""Writes for users' accounts, the organization, invites and personal access tokens."""

import io
import secrets
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import APIException, NotFound, PermissionDenied
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from labelhub.errors import ApiError
from projects import accounts_selectors as selectors
from projects import services
from projects.models import Organization, ProductTour, ProjectMember, UserProfile, invite_token
from projects.tokens import ApiToken, unverified_jti

AVATAR_FOLDER = "avatars"


def _bad(field: str, message: str) -> ApiError:
    return ApiError(f"{field}: {message}", [{"field": field, "message": message}])


# --------------------------------------------------------------------------- organization


def organization_ensure() -> Organization:
    """The organization row (id 1), made on first use; its owner is the first superuser."""
    org = Organization.objects.order_by("pk").first()
    if org is not None:
        return org
    owner = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    try:
        with transaction.atomic():
            return Organization.objects.create(
                pk=selectors.ORGANIZATION_ID, title="LabelHub", created_by=owner
            )
    except IntegrityError:  # made by a concurrent request
        return Organization.objects.get(pk=selectors.ORGANIZATION_ID)


@transaction.atomic
def organization_update(*, fields: dict) -> Organization:
    """Change the title, contact email or token settings (the caller checked staff)."""
    org = organization_ensure()
    for name, value in fields.items():
        setattr(org, name, value)
    if fields:
        org.save(update_fields=[*fields, "updated_at"])
    return org


@transaction.atomic
def invite_token_reset() -> Organization:
    """A new invite token: links carrying the old one stop working at once."""
    org = organization_ensure()
    org.token = invite_token()
    org.save(update_fields=["token", "updated_at"])
    return org


def invite_token_valid(token: str | None) -> bool:
    """Whether ``token`` lets someone sign up: the organization's invite token; or no
    token at all when ``LABELHUB_SIGNUP_WITHOUT_LINK`` opens sign-up to anyone (off by
    default; Label Studio's DISABLE_SIGNUP_WITHOUT_LINK the other way round). A wrong
    token is refused either way, as Label Studio does."""
    if not token:
        return settings.LABELHUB_SIGNUP_WITHOUT_LINK
    org = Organization.objects.order_by("pk").first()
    return bool(org and org.token and secrets.compare_digest(token, org.token))


@transaction.atomic
def user_signup(*, token: str | None, email: str, password: str):
    """Create a (non-staff) user who followed a valid invite link."""
    if not invite_token_valid(token):
        raise PermissionDenied("This invite link is not valid (any more).")
    try:
        validate_password(password)
    except ValidationError as exc:
        raise _bad("password", " ".join(exc.messages)) from exc
    return services.user_create(email=email, password=password)


# --------------------------------------------------------------------------- users


@transaction.atomic
def user_create_checked(
    *, email: str, password: str, first_name: str = "", last_name: str = "", is_staff: bool = False
):
    """A user an admin creates on the People page: the same password rules as sign-up
    (Django's validators), then ``projects.services.user_create``."""
    try:
        validate_password(password)
    except ValidationError as exc:
        raise _bad("password", " ".join(exc.messages)) from exc
    return services.user_create(
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        is_staff=is_staff,
    )


def _profile(user) -> UserProfile:
    profile, _ = UserProfile.objects.get_or_create(user=user)
    user._state.fields_cache["profile"] = profile
    return profile


@transaction.atomic
def user_delete(*, user, by) -> None:
    """Delete a user's access, keep their work: the account is deactivated (it can no
    longer sign in, and no token of theirs works), their API keys and personal access
    tokens are revoked, their avatar removed and their project memberships ended. The
    row stays, so their annotations, reviews and drafts keep naming them (Label
    Studio's hard delete would cascade reviews away and blank ``completed_by``)."""
    if user.pk == by.pk:
        raise PermissionDenied("You cannot delete yourself.")
    org = Organization.objects.order_by("pk").first()
    if org is not None and org.created_by_id == user.pk:
        raise PermissionDenied("The organization owner cannot be deleted")
    locked = type(user).objects.select_for_update().filter(pk=user.pk, is_active=True).first()
    if locked is None:
        raise NotFound("Not found.")
    locked.is_active = False
    locked.set_unusable_password()
    locked.save(update_fields=["is_active", "password"])
    Token.objects.filter(user=locked).delete()
    for outstanding in OutstandingToken.objects.filter(user=locked, blacklistedtoken__isnull=True):
        BlacklistedToken.objects.get_or_create(token=outstanding)
    ProjectMember.objects.filter(user=locked).delete()
    profile = UserProfile.objects.filter(user=locked).first()
    if profile is not None and profile.avatar:
        key = f"{AVATAR_FOLDER}/{profile.avatar}"
        transaction.on_commit(lambda: default_storage.delete(key))
        profile.avatar = ""
        profile.save(update_fields=["avatar"])


def _avatar_image(upload) -> tuple[bytes, str]:
    """Check an uploaded avatar and re-encode it, so that what is stored and served is a
    plain image Pillow wrote (no script, no metadata, no polyglot file)."""
    max_size = settings.LABELHUB_AVATAR_MAX_SIZE
    max_side = settings.LABELHUB_AVATAR_MAX_SIDE
    if upload.size > max_size:
        raise _bad("avatar", f"Avatar file size may not exceed {max_size // 1024} kb")
    try:
        with Image.open(upload) as image:
            if image.format not in ("PNG", "JPEG", "GIF"):
                raise _bad("avatar", "Please use a JPEG, GIF or PNG image.")
            width, height = image.size
            if width > max_side or height > max_side:
                raise _bad(
                    "avatar",
                    f"Please use an image that is {max_side} x {max_side} pixels or smaller.",
                )
            image.load()
            out = io.BytesIO()
            if image.format == "JPEG":
                image.convert("RGB").save(out, format="JPEG", quality=90)
                return out.getvalue(), "jpg"
            image.convert("RGBA").save(out, format="PNG")
            return out.getvalue(), "png"
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise _bad("avatar", "Can't read image, try another one") from exc


def avatar_set(*, user, upload) -> str:
    """Store a new avatar for the user (and drop the old file); returns its URL."""
    if upload is None:
        raise _bad("avatar", "no image file in the request")
    content, ext = _avatar_image(upload)
    name = f"{uuid.uuid4().hex}.{ext}"
    key = default_storage.save(f"{AVATAR_FOLDER}/{name}", ContentFile(content))
    name = key.rsplit("/", 1)[-1]
    with transaction.atomic():
        profile = _profile(user)
        old = profile.avatar
        profile.avatar = name
        profile.save(update_fields=["avatar"])
        if old:
            transaction.on_commit(lambda: default_storage.delete(f"{AVATAR_FOLDER}/{old}"))
    return f"{selectors.AVATAR_URL}{name}"


@transaction.atomic
def avatar_clear(*, user) -> None:
    profile = UserProfile.objects.filter(user=user).first()
    if profile is not None and profile.avatar:
        old = profile.avatar
        profile.avatar = ""
        profile.save(update_fields=["avatar"])
        transaction.on_commit(lambda: default_storage.delete(f"{AVATAR_FOLDER}/{old}"))


@transaction.atomic
def hotkeys_set(*, user, hotkeys: dict) -> dict:
    """Store the user's custom hotkeys (validated by the caller: ``HotkeysIn``)."""
    profile = _profile(user)
    profile.custom_hotkeys = hotkeys
    profile.save(update_fields=["custom_hotkeys"])
    return hotkeys


def product_tour_get(*, user, name: str) -> ProductTour:
    tour, _ = ProductTour.objects.get_or_create(user=user, name=name)
    return tour


@transaction.atomic
def product_tour_update(*, user, name: str, fields: dict) -> ProductTour:
    tour, _ = ProductTour.objects.select_for_update().get_or_create(user=user, name=name)
    for key, value in fields.items():
        setattr(tour, key, value)
    if fields:
        tour.save(update_fields=[*fields, "updated_at"])
    return tour


# --------------------------------------------------------------------------- tokens


class TokenExists(APIException):
    status_code = 409
    default_detail = "You already have a valid token. Please revoke it before creating a new one."
    default_code = "token_exists"


@transaction.atomic
def api_token_create(*, user) -> ApiToken:
    """A new personal access token; one live token per user, as Label Studio."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()  # user may be lazy
    if selectors.api_tokens(user=user):
        raise TokenExists()
    return ApiToken.issue(user=user, ttl_days=selectors.organization().api_token_ttl_days)


def _own_outstanding(*, user, raw: str) -> OutstandingToken | None:
    jti = unverified_jti(raw)
    if jti is None:
        return None
    return OutstandingToken.objects.filter(jti=jti, user=user).first()


@transaction.atomic
def api_token_blacklist(*, user, raw: str) -> bool:
    """Blacklist a personal access token; False when it is unknown or already
    blacklisted. A signed-in caller may name one of their own tokens as listed (without
    its signature); anyone else must hold the whole signed token."""
    if user is not None and user.is_authenticated:
        outstanding = _own_outstanding(user=user, raw=raw)
    else:
        try:
            token = ApiToken.parse(raw)
        except TokenError:
            return False
        outstanding = OutstandingToken.objects.filter(jti=token["jti"]).first()
    if outstanding is None:
        return False
    _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    return created


@transaction.atomic
def api_token_rotate(*, user, raw: str) -> ApiToken:
    """Blacklist the caller's token ``raw`` (signed, live) and issue a new one."""
    try:
        token = ApiToken.parse(raw)
    except TokenError as exc:
        raise _bad("refresh", "Invalid refresh token") from exc
    outstanding = OutstandingToken.objects.filter(jti=token["jti"], user=user).first()
    if outstanding is None:
        raise _bad("refresh", "Invalid refresh token")
    _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    if not created:
        raise ApiError("Token is invalid or already blacklisted.")
    return ApiToken.issue(user=user, ttl_days=selectors.organization().api_token_ttl_days)


def access_token_for(*, raw: str) -> str:
    """A fresh access token for a live personal access token (``/api/token/refresh/``)."""
    try:
        token = ApiToken.parse(raw)
    except TokenError as exc:
        raise InvalidToken("Token is invalid or expired") from exc
    live = OutstandingToken.objects.filter(
        jti=token["jti"],
        user__is_active=True,
        expires_at__gt=timezone.now(),
        blacklistedtoken__isnull=True,
    )
    if not live.exists():
        raise InvalidToken("Token is invalid or expired")
    return str(token.access_token)
