"""Personal invite links for accounts made without a usable password (the users the
Label Studio migration creates): ``/user/invite/<uid>/<token>/`` lets that one person
choose a password and signs them in.

The organization's invite link (``GET /api/invite``) cannot serve here: it makes a *new*
account, and letting it claim an existing one by email would let anyone holding the
team's link take over a colleague's account and their work. This token is bound to one
user and is stateless (Django's password-reset token machinery, its own salt): it
carries the account's password hash, so it stops working the moment a password is set,
and it expires after ``INVITE_DAYS``. It is accepted only for an active account that
has no usable password, so it can never replace a password someone chose.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

from labelhub.errors import ApiError

INVITE_DAYS = 30
INVITE_PATH = "/user/invite/"


class _InviteTokens(PasswordResetTokenGenerator):
    key_salt = "labelhub.projects.invites"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.password}{user.is_active}{timestamp}"

    def check_token(self, user, token):
        """Django's check with this module's lifetime instead of PASSWORD_RESET_TIMEOUT."""
        if not (user and token) or "-" not in token:
            return False
        try:
            timestamp = base36_to_int(token.split("-", 1)[0])
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(
                self._make_token_with_timestamp(user, timestamp, secret), token
            ):
                break
        else:
            return False
        return self._num_seconds(self._now()) - timestamp <= INVITE_DAYS * 86400


_tokens = _InviteTokens()


def invite_pending(user) -> bool:
    """Whether ``user`` can still be invited: active, never given a usable password."""
    return bool(user.is_active and not user.has_usable_password())


def invite_path(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"{INVITE_PATH}{uid}/{_tokens.make_token(user)}/"


def invite_url(user) -> str:
    """The absolute link (``LABELHUB_HOSTNAME`` + path) to hand to ``user``."""
    return settings.LABELHUB_HOSTNAME.rstrip("/") + invite_path(user)


def invite_user(*, uid: str, token: str):
    """The user an invite link is for, or None when the link is not valid (any more)."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = get_user_model().objects.filter(pk=pk).first()
    if user is None or not invite_pending(user) or not _tokens.check_token(user, token):
        return None
    return user


@transaction.atomic
def invite_accept(*, uid: str, token: str, password: str):
    """Set the invited user's first password; the link stops working with it. Returns
    the user, or None when the link is not valid (any more)."""
    user = invite_user(uid=uid, token=token)
    if user is None:
        return None
    locked = type(user).objects.select_for_update().get(pk=user.pk)
    if not invite_pending(locked) or not _tokens.check_token(locked, token):
        return None  # accepted by a concurrent request
    try:
        validate_password(password, locked)
    except ValidationError as exc:
        raise ApiError(
            f"password: {' '.join(exc.messages)}",
            [{"field": "password", "message": " ".join(exc.messages)}],
        ) from exc
    locked.set_password(password)
    locked.save(update_fields=["password"])
    return locked
