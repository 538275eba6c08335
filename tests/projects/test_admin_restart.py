"""Issue #26 row 7: ``labelhub start`` with an unchanged LABELHUB_PASSWORD keeps the
admin's browser session; a changed one signs them out (Django's session hash)."""

import pytest
from django.test import Client

from projects.services import admin_ensure

pytestmark = pytest.mark.django_db


def test_restart_with_the_same_password_keeps_the_session():
    admin = admin_ensure(email="admin@localhost", password="first-pass-word")
    browser = Client()
    browser.force_login(admin)  # the session carries the password hash's HMAC
    stored = admin.password
    assert browser.get("/api/current-user/whoami/").status_code == 200

    # a restart: the same password given again
    again = admin_ensure(email="admin@localhost", password="first-pass-word", reset_password=True)
    assert again.password == stored
    assert browser.get("/api/current-user/whoami/").status_code == 200

    # a new password: the hash changes and the old session ends
    admin_ensure(email="admin@localhost", password="second-pass-word", reset_password=True)
    assert browser.get("/api/current-user/whoami/").status_code in (401, 403)
    admin.refresh_from_db()
    assert admin.check_password("second-pass-word")
