"""The HTML pages: log in and out, projects, project settings, the task list, and the
editor pages (Label Stream, one task, config preview).

Views are thin: access goes through ``projects.permissions`` and writes through the
same services as the API. Annotators reach only the Label Stream of their projects;
the other project pages answer 403, and another project's pages 404.

Project pages put ``project_nav(...)`` into their context for the nav in base.html.
"""

import io
import math
import struct
import wave
from functools import wraps

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods
from rest_framework.exceptions import NotFound, PermissionDenied

from annotations.models import Annotation
from frontend import forms, settings_service
from frontend.csp import EDITOR_FRAMED, csp
from frontend.label_templates import BY_KEY, TEMPLATES
from importers.samples import sample_data
from importers.sources import accepted_extensions
from labelhub import errors
from labelhub.errors import ApiError
from projects import accounts_services as account_services
from projects import permissions as perms
from projects import selectors as project_selectors
from projects import services as project_services
from projects.api import user_dict
from projects.label_config import ParsedConfig
from projects.models import Project, ProjectMember

# Page shortcuts for the editor pages, on top of the editor's own (ctrl+enter, ctrl+space).
SHORTCUTS = {"submit": "alt+s", "skip": "alt+k"}


# --------------------------------------------------------------------------- helpers


def project_nav(user, project: Project, active: str) -> dict:
    """Context for the project nav in base.html: the links this user's role may follow.

    ``active`` is one of "data", "label", "verify", "quality", "ml", "settings".
    """
    links = []
    if perms.can(user, project, perms.DATA_MANAGER):
        links.append(("data", "Data Manager", f"/projects/{project.pk}/data"))
    if perms.can(user, project, perms.ANNOTATE):
        links.append(("label", "Label", f"/projects/{project.pk}/label"))
    if perms.can(user, project, perms.REVIEW):
        links.append(("verify", "Verify", f"/projects/{project.pk}/verify"))
    if perms.can(user, project, perms.READ_ALL_ANNOTATIONS):
        links.append(("quality", "Quality", f"/projects/{project.pk}/quality"))
    elif perms.can(user, project, perms.VIEW):
        links.append(("quality", "My performance", f"/projects/{project.pk}/quality"))
    if perms.can(user, project, perms.MANAGE):
        links.append(("ml", "ML", f"/projects/{project.pk}/ml"))
        links.append(("settings", "Settings", f"/projects/{project.pk}/settings"))
    return {
        "nav_project": project,
        "nav_links": [
            {"key": key, "label": label, "url": url, "active": key == active}
            for key, label, url in links
        ],
    }


def _error_page(request, status: int, message: str):
    return render(
        request, "frontend/error.html", {"status": status, "message": message}, status=status
    )


# Django's handler403/404/500 (labelhub/urls.py): a page with a way back for a browser,
# the API's JSON for everything else.


def error_403(request, exception=None):
    if not errors.wants_html(request):
        return errors.json_403(request, exception)
    return _error_page(request, 403, "You do not have permission to open this page.")


def error_404(request, exception=None):
    if not errors.wants_html(request):
        return errors.json_404(request, exception)
    return _error_page(request, 404, "There is no page at this address.")


def error_500(request):
    """Rendered without the request's context: the session, the user and the database
    may be what failed. A lost database is a 503 (see labelhub.errors.json_500)."""
    response = errors.json_500(request)
    if not errors.wants_html(request):
        return response
    message = (
        "The database is unavailable for a moment; try again."
        if response.status_code == 503
        else "Something went wrong on the server. It has been logged."
    )
    html = loader.render_to_string(
        "frontend/error.html", {"status": response.status_code, "message": message}
    )
    page = HttpResponse(html, status=response.status_code)
    if response.has_header("Retry-After"):
        page["Retry-After"] = response["Retry-After"]
    return page


def project_page(capability: str):
    """Decorate a view of one project: log-in required, the project fetched for the
    user with ``capability`` (403 page without it, 404 page for another project)."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapped(request, pk, *args, **kwargs):
            try:
                project = perms.project_for(request.user, pk, capability)
            except NotFound:
                return _error_page(
                    request, 404, "This project does not exist, or you are not a member."
                )
            except PermissionDenied:
                return _error_page(
                    request, 403, "Your role in this project does not open this page."
                )
            return view(request, project, *args, **kwargs)

        return wrapped

    return decorate


# --------------------------------------------------------------------------- log in


def home(request):
    return redirect("projects" if request.user.is_authenticated else "login")


@csp()
@require_http_methods(["GET", "POST"])
def login_view(request):
    form = forms.LoginForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request, email=form.cleaned_data["email"], password=form.cleaned_data["password"]
        )
        if user is not None:
            login(request, user)
            target = request.GET.get("next") or "/projects/"
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = "/projects/"
            return redirect(target)
        error = "Wrong email or password."
    return render(request, "frontend/login.html", {"form": form, "error": error})


def _safe_next(request, default: str = "/projects/") -> str:
    target = request.GET.get("next") or default
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return default
    return target


@csp()
@require_http_methods(["GET", "POST"])
def signup_view(request):
    """``/user/signup/?token=...``: the invite link of ``GET /api/invite``. A valid token
    lets a new (non-staff) user create an account and signs them in; a reset token
    (``/api/invite/reset-token``) makes old links answer 403."""
    if request.user.is_authenticated:
        return redirect(_safe_next(request))
    token = request.GET.get("token")
    valid = account_services.invite_token_valid(token)
    form = forms.SignupForm(request.POST or None)
    error = None
    if request.method == "POST" and valid and form.is_valid():
        try:
            user = account_services.user_signup(
                token=token,
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
            )
        except ApiError as exc:
            error = str(exc.detail)
        else:
            login(request, user, backend="projects.auth.EmailBackend")
            return redirect(_safe_next(request))
    if request.method == "POST" and form.errors:
        field, messages = next(iter(form.errors.items()))
        error = f"{field}: {messages[0]}"
    context = {"form": form, "error": error, "valid": valid}
    return render(request, "frontend/signup.html", context, status=200 if valid else 403)


@csp()
@require_http_methods(["GET", "POST"])
def logout_view(request):
    """POST (with the CSRF token) signs out: a link or image on another site cannot sign
    a user out. A GET (a typed or bookmarked address) gets a page with the button."""
    if request.method == "GET":
        if not request.user.is_authenticated:
            return redirect("login")
        return render(request, "frontend/logout.html")
    logout(request)
    return redirect("login")


LOCKED_OUT = (
    "Too many failed sign-ins for this account from your address. "
    "Try again in {minutes} minutes, or ask an admin to unlock it."
)


def login_locked_out(request, credentials, *args, **kwargs):
    """django-axes' lockout answer (AXES_LOCKOUT_CALLABLE): the login page, with why."""
    minutes = round(settings.AXES_COOLOFF_TIME * 60)
    form = forms.LoginForm(request.POST or None)
    error = LOCKED_OUT.format(minutes=minutes)
    response = render(request, "frontend/login.html", {"form": form, "error": error}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


# --------------------------------------------------------------------------- projects


@login_required
@require_http_methods(["POST"])
def project_leave(request, pk):
    """A member leaves a project (someone may have added them by email). The project's
    last admin cannot; a project they are not in is a 404."""
    project = perms.project_for(request.user, pk)
    try:
        project_services.member_remove(project=project, user=request.user)
    except ApiError as exc:
        return _error_page(request, 400, str(exc.detail))
    return redirect("/projects/")


@csp()
@login_required
def projects_page(request):

    mine = (
        Annotation.objects.filter(
            project=OuterRef("pk"), completed_by=request.user, was_cancelled=False
        )
        .order_by()
        .values("project")
        .annotate(n=Count("pk"))
        .values("n")
    )
    role = ProjectMember.objects.filter(project=OuterRef("pk"), user=request.user).values("role")[
        :1
    ]
    projects = (
        Project.objects.for_user(request.user)
        .annotate(my_annotations=Coalesce(Subquery(mine, output_field=IntegerField()), 0))
        .annotate(my_role=Subquery(role))
        .order_by("-id")
    )
    rows = []
    for project in projects:
        role_name = ProjectMember.Role.ADMIN if request.user.is_staff else project.my_role
        capabilities = perms.CAPABILITIES.get(role_name, frozenset())
        total = project.task_number
        done = project.num_tasks_with_annotations
        rows.append(
            {
                "project": project,
                "role": role_name,
                "percent": math.floor(100 * done / total) if total else 0,
                "can_label": perms.ANNOTATE in capabilities,
                "can_data": perms.DATA_MANAGER in capabilities,
                "can_manage": perms.MANAGE in capabilities,
                "can_leave": role_name != ProjectMember.Role.ADMIN and not request.user.is_staff,
                "home": f"/projects/{project.pk}/",
            }
        )
    return render(
        request,
        "frontend/projects.html",
        {
            "rows": rows,
            "may_create": perms.may_create_projects(request.user),
            "deleted": request.GET.get("deleted", "")[:200],
        },
    )


@csp()
@login_required
@require_http_methods(["GET", "POST"])
def project_create_page(request):
    if not perms.may_create_projects(request.user):
        return _error_page(request, 403, "Ask an admin to create projects.")
    initial_template = BY_KEY.get(request.GET.get("template") or "", TEMPLATES[0])
    form = forms.ProjectCreateForm(
        request.POST or None,
        initial={"template": initial_template["key"], "label_config": initial_template["config"]},
    )
    if request.method == "POST" and form.is_valid():
        try:
            project = project_services.project_create(
                user=request.user,
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                color=form.cleaned_data["color"] or "#ffffff",
                label_config=form.cleaned_data["label_config"],
            )
        except ApiError as exc:
            form.add_error("label_config", settings_service.config_error(exc))
        else:
            # Label Studio's create dialog: the project, then its data, then the settings.
            return redirect(f"/projects/{project.pk}/import?created=1")
    return render(
        request,
        "frontend/project_create.html",
        {
            "form": form,
            "templates": TEMPLATES,
            "template_configs": {t["key"]: t["config"] for t in TEMPLATES},
        },
    )


@csp()
@project_page(perms.MANAGE)
def project_import_page(request, project):
    """``/projects/{id}/import``: the step after creating a project (its data), before the
    labeling settings; the same import form as the Data Manager's "Add more data"."""
    return render(
        request,
        "frontend/project_import.html",
        {
            "project": project,
            "created": bool(request.GET.get("created")),
            "import_accept": accepted_extensions(),
            **project_nav(request.user, project, "data"),
        },
    )


@project_page(perms.VIEW)
def project_home(request, project):
    """A project's front door: the Data Manager for those who may use it, else the stream."""
    nav = project_nav(request.user, project, "")
    links = {link["key"]: link["url"] for link in nav["nav_links"]}
    return redirect(links.get("data") or links.get("label") or "/projects/")


@csp()
@project_page(perms.MANAGE)
@require_http_methods(["GET", "POST"])
def project_settings_page(request, project, ls_section: str | None = None):
    """``/projects/{id}/settings/``; Label Studio's ``/projects/{id}/settings/{section}``
    links (bookmarks of users who switched) open the matching part of the same page. A
    POST saves one section (``frontend.settings_service.settings_save``)."""
    section = settings_service.settings_section(
        request.POST.get("section") or request.GET.get("section"), ls_section
    )
    data = request.POST if request.method == "POST" else None
    page_forms = settings_service.settings_forms(
        project=project, data=data, section=section, user=request.user
    )
    member_errors: list[str] = []
    if data is not None:
        outcome = settings_service.settings_save(
            project=project, section=section, page_forms=page_forms, data=data, user=request.user
        )
        if outcome.redirect:
            return redirect(outcome.redirect)
        member_errors = outcome.member_errors
    return render(
        request,
        "frontend/project_settings.html",
        {
            "project": project,
            "forms": page_forms,
            "section": "members" if section.startswith("member") else section,
            "sections": settings_service.SETTINGS_SECTIONS,
            "members": project_selectors.member_rows(project=project, staff=request.user.is_staff),
            "roles": ProjectMember.Role.choices,
            "member_errors": member_errors,
            # A failed POST re-renders at the ?saved= address of the last success: its
            # "Saved." must not stand next to the new error.
            "saved": request.GET.get("saved") if request.method == "GET" else None,
            "created": request.GET.get("created"),
            **project_nav(request.user, project, "settings"),
        },
    )


@project_page(perms.DATA_MANAGER)
def project_tasks_page(request, project):
    """The old task list's address: the Data Manager lists the tasks now."""
    return redirect(f"/projects/{project.pk}/data")


# --------------------------------------------------------------------------- editor pages


@csp(EDITOR_FRAMED)
@xframe_options_sameorigin
@login_required
@require_http_methods(["GET", "POST"])
def config_preview_page(request):
    """The editor on sample data for a config sent by the create and settings pages
    (a form POSTed into an iframe: the editor's CSS needs a page of its own)."""
    config = request.POST.get("label_config", "")
    context: dict = {"error": None, "editor": None}
    if config.strip():
        try:
            parsed = ParsedConfig.from_dict(project_services.label_config_parse(config))
        except ApiError as exc:
            context["error"] = settings_service.config_error(exc)
        else:
            context["editor"] = {
                "config": config,
                "task": {
                    "id": 1,
                    "data": sample_data(parsed),
                    "annotations": [],
                    "predictions": [],
                },
                "user": user_dict(request.user),
                "interfaces": "preview",
            }
    return render(request, "frontend/preview.html", context)


def sample_audio(request):
    """A one-second, 8 kHz chirp for previewing audio configs (no binary in the repo)."""
    rate = 8000
    frames = bytearray()
    for i in range(rate):
        t = i / rate
        value = int(12000 * math.sin(2 * math.pi * (220 + 440 * t) * t) * (1 - t))
        frames += struct.pack("<h", value)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    response = HttpResponse(buffer.getvalue(), content_type="audio/wav")
    response["Cache-Control"] = "public, max-age=86400"
    return response
