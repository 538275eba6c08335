"""``/user/invite/<uid>/<token>/``: the personal invite link of an account made without a
password (``projects.invites``; the Label Studio migration hands them out). The person
chooses a password and is signed in; a used, expired or wrong link answers 403."""

from django import forms
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from frontend.csp import csp
from labelhub.errors import ApiError
from projects import invites


class InviteForm(forms.Form):
    password = forms.CharField(min_length=8, max_length=128, widget=forms.PasswordInput)
    password2 = forms.CharField(
        label="Password again", min_length=8, max_length=128, widget=forms.PasswordInput
    )

    def clean(self):
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password2"):
            raise forms.ValidationError("the two passwords differ")
        return data


@csp()
@require_http_methods(["GET", "POST"])
def invite_page(request, uid: str, token: str):
    user = invites.invite_user(uid=uid, token=token)
    form = InviteForm(request.POST or None)
    error = None
    if user is not None and request.method == "POST" and form.is_valid():
        try:
            accepted = invites.invite_accept(
                uid=uid, token=token, password=form.cleaned_data["password"]
            )
        except ApiError as exc:
            error = str(exc.detail)
        else:
            if accepted is not None:
                login(request, accepted, backend="projects.auth.EmailBackend")
                return redirect("projects")
            user = None
    if request.method == "POST" and form.errors:
        field, messages = next(iter(form.errors.items()))
        error = str(messages[0]) if field == "__all__" else f"{field}: {messages[0]}"
    context = {"form": form, "error": error, "invited": user}
    return render(request, "frontend/invite.html", context, status=200 if user else 403)
