"""The user a command-line import or migration acts as (``--username``, else the first
admin). Imported by the command lines before Django is set up: it touches Django only
when called."""


def admin_user(username: str | None):
    from django.contrib.auth import get_user_model  # after django.setup(), at call time

    users = get_user_model().objects.filter(is_staff=True).order_by("id")
    if username:
        users = users.filter(email__iexact=username)
    user = users.first()
    if user is None:
        raise SystemExit("No admin user found: run `labelhub start` once, or pass --username.")
    return user
