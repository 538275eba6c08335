"""The account page (``/user/account``) and the People page for staff (``/people/``,
Label Studio's path).

Both call the same services as the API: the name through ``projects.services``, the
account's API token and personal access tokens through the API itself (account.js:
``/api/current-user/reset-token/``, ``/api/token/``, ``/api/token/blacklist/``), invites,
new users and deactivation through ``projects.accounts_services``.
"""

from __future__ import annotations

from django import forms as django_forms
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import APIException

from frontend.csp import csp
from frontend.views import _error_page
from labelhub.errors import ApiError
from projects import accounts_selectors as account_selectors
from projects import accounts_services as account_services
from projects import services as project_services
from projects.accounts_api import SIGNUP_PATH, initials
from projects.models import ProjectMember


class NameForm(django_forms.Form):
    first_name = django_forms.CharField(max_length=150, required=False, label="First name")
    last_name = django_forms.CharField(max_length=150, required=False, label="Last name")


class PersonCreateForm(django_forms.Form):
    email = django_forms.EmailField(max_length=254)
    first_name = django_forms.CharField(max_length=150, required=False, label="First name")
    last_name = django_forms.CharField(max_length=150, required=False, label="Last name")
    password = django_forms.CharField(
        max_length=128,
        widget=django_forms.PasswordInput,
        help_text="At least 8 characters; tell them, they can change it later.",
    )
    is_staff = django_forms.BooleanField(
        required=False, label="Administrator (sees every project and this page)"
    )


def _api_error_text(exc: APIException) -> str:
    return str(exc.detail)


def _pk(value) -> int:
    """A user id from a form or the URL; 0 for anything else."""
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) <= 12 else 0


@csp()
@login_required
@require_http_methods(["GET", "POST"])
def account_page(request):
    """Name, avatar initials, the API token (copy, reset) and personal access tokens."""
    user = request.user
    form = NameForm(
        request.POST if request.method == "POST" else None,
        initial={"first_name": user.first_name, "last_name": user.last_name},
    )
    if request.method == "POST" and form.is_valid():
        project_services.user_update(
            user=user,
            first_name=form.cleaned_data["first_name"].strip(),
            last_name=form.cleaned_data["last_name"].strip(),
        )
        return redirect("/user/account?saved=1")
    token, _ = Token.objects.get_or_create(user=user)
    account_selectors.profile_load(user)
    org = account_selectors.organization()
    return render(
        request,
        "frontend/account.html",
        {
            "form": form,
            "initials": initials(user),
            "avatar": account_selectors.avatar_url(user),
            "token": token.key,
            "pats": account_selectors.api_tokens(user=user),
            "legacy_enabled": org.legacy_api_tokens_enabled,
            "pats_enabled": org.api_tokens_enabled,
            "saved": request.GET.get("saved"),
        },
    )


@csp()
@login_required
@require_http_methods(["GET", "POST"])
def people_page(request):
    """Staff: the invite link (copy, reset), a form to create a user, and every user
    with the projects they belong to (and their role there), deactivated ones greyed
    out; Deactivate ends a user's access and keeps their work
    (``accounts_services.user_delete``)."""
    if not request.user.is_staff:
        return _error_page(request, 403, "Only administrators manage people.")
    User = get_user_model()
    action = request.POST.get("action") if request.method == "POST" else None
    create = PersonCreateForm(request.POST if action == "create" else None)
    error = None
    if action == "invite_reset":
        account_services.invite_token_reset()
        return redirect("/people/?done=invite")
    if action == "create" and create.is_valid():
        try:
            made = account_services.user_create_checked(**create.cleaned_data)
        except ApiError as exc:
            errors = exc.errors or [{"field": None, "message": str(exc.detail)}]
            for item in errors:
                field = item.get("field")
                create.add_error(field if field in create.fields else None, item.get("message"))
        else:
            return redirect(f"/people/?done=created&who={made.pk}")
    if action == "deactivate":
        target = User.objects.filter(pk=_pk(request.POST.get("user"))).first()
        try:
            if target is None:
                raise ApiError("That user does not exist.")
            account_services.user_delete(user=target, by=request.user)
        except (ApiError, APIException) as exc:
            error = _api_error_text(exc)
        else:
            return redirect(f"/people/?done=deactivated&who={target.pk}")
    org = account_services.organization_ensure()
    memberships = Prefetch(
        "memberships",
        queryset=ProjectMember.objects.select_related("project").order_by("project_id"),
    )
    people = User.objects.order_by("-is_active", "email").prefetch_related(memberships)
    done_who = User.objects.filter(pk=_pk(request.GET.get("who"))).first()
    rows = [
        {
            "user": person,
            "initials": initials(person),
            "projects": [
                {"id": m.project_id, "title": m.project.title, "role": m.role}
                for m in person.memberships.all()
            ],
        }
        for person in people
    ]
    return render(
        request,
        "frontend/people.html",
        {
            "rows": rows,
            "invite_url": request.build_absolute_uri(f"{SIGNUP_PATH}?token={org.token}"),
            "create": create,
            "error": error,
            "done": request.GET.get("done"),
            "done_who": done_who,
        },
    )
