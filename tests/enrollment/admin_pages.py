"""Helpers for tests of the back office: an admin, its forms' one-time tokens, the PIN page."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from tests.enrollment.factories import make_organisation

ADD_URL = "/admin/enrollment/holder/add/"
CHANGELIST_URL = "/admin/enrollment/holder/"


def make_admin(username: str = "beheer") -> User:
    return User.objects.create_superuser(username, f"{username}@example.org", "Beheer-Wachtwoord1!")


def form_token(html: str) -> str:
    """The one-time token of the form on a page (the add form or the change list)."""
    match = re.search(r'name="issue_token" value="([^"]+)"', html)
    assert match is not None, "no issue_token on the page"
    return match.group(1)


def holder_data(**values: Any) -> dict[str, Any]:
    return {
        "display_name": "B. de Vries",
        "kind": "personal",
        "organisation": str(make_organisation("Zorg BV").pk),
        "contact_email": "contact@example.org",
        "pin_delivery": "letter",
        "messagebox_address": "",
        "allowed_networks": "",
        **values,
    }


def post_add_form(client: Client, **values: Any) -> Any:
    """Draw the add form (for its token) and submit it once."""
    token = form_token(client.get(ADD_URL).content.decode())
    return client.post(ADD_URL, {**holder_data(**values), "issue_token": token})


def add_holder(client: Client, **values: Any) -> Any:
    """Add a holder as an admin does; the answer is the PIN page the form redirects to."""
    response = post_add_form(client, **values)
    if response.status_code != 302:
        return response
    return client.get(response["Location"])


def shown_pins(html: str) -> list[str]:
    return re.findall(r'<code class="pin-value pin-secret" id="pin-\d+">(\d{8})</code>', html)


def shown_pin(html: str) -> str:
    pins = shown_pins(html)
    assert len(pins) == 1, html
    return pins[0]


def run_action(client: Client, action: str, holders: list[Any], token: str | None = None) -> Any:
    """An action of the holders' change list, with the list's one-time token."""
    if token is None:
        token = form_token(client.get(CHANGELIST_URL).content.decode())
    return client.post(
        CHANGELIST_URL,
        {"action": action, "_selected_action": [h.pk for h in holders], "issue_token": token},
    )


IMPORT_URL = "/admin/enrollment/holder/import/"


def upload_csv(client: Client, text: str, name: str = "houders.csv") -> Any:
    """Upload a CSV file for checking; a clean one redirects to its confirmation page."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        IMPORT_URL, {"csv_file": SimpleUploadedFile(name, text.encode(), "text/csv")}
    )


def confirm_import(client: Client, check_url: str, **options: str) -> Any:
    """Confirm a checked import, and run it as the worker would once the confirmation commits.

    The import's mails are queued in the test's transaction and not sent (wrap the call in
    django_capture_on_commit_callbacks(execute=True) with eager tasks to send them).
    """
    from enrollment.bulk import run_import
    from enrollment.models import HolderImport, ImportState

    response = client.post(f"{check_url}confirm/", options)
    pk = int(check_url.rstrip("/").rsplit("/", 1)[1])
    if HolderImport.objects.filter(pk=pk, state=ImportState.QUEUED).exists():
        run_import(pk)
    return response


def import_csv(client: Client, text: str, **options: str) -> Any:
    """Upload, confirm and run an import; the answer is its page once it finished."""
    uploaded = upload_csv(client, text)
    assert uploaded.status_code == 302, uploaded.content.decode()
    confirmed = confirm_import(client, uploaded["Location"], **options)
    assert confirmed.status_code == 302
    return client.get(uploaded["Location"])


def letters_of(client: Client, page_html: str) -> Any:
    """The PIN letters PDF linked from a handover page (or from an import's page)."""
    match = re.search(r'href="(/admin/enrollment/holder/issued/\d+/)"', page_html)
    if match is not None:  # an import's page links to its handover
        page_html = client.get(match.group(1)).content.decode()
    link = re.search(r'href="(/admin/enrollment/holder/issued/\d+/letters\.pdf[^"]*)"', page_html)
    assert link is not None, page_html
    return client.get(link.group(1).replace("&amp;", "&"))
