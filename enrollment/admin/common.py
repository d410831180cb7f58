"""What the back office's admin pages share: the actor, the one-time form token, headers."""

from __future__ import annotations

import secrets

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from core.client_address import client_address

__all__ = ["actor_of", "address_of", "admin_id", "new_form_token", "private"]


def actor_of(request: HttpRequest) -> str:
    """The audit log's name for the admin: ``admin:<username>``."""
    return f"admin:{request.user.get_username()}"


def admin_id(request: HttpRequest) -> int:
    """The logged-in admin's id (admin views are reached only when logged in)."""
    pk = request.user.pk
    if pk is None:
        raise PermissionDenied
    return int(pk)


def address_of(request: HttpRequest) -> str | None:
    return client_address(request)


def new_form_token() -> str:
    """A one-time token for a form that issues (its hash is claimed by the first submit)."""
    return secrets.token_urlsafe(24)


def private(response: HttpResponse) -> HttpResponse:
    """No cache, proxy or back button keeps a page or PDF that holds a PIN."""
    add_never_cache_headers(response)
    response["Cache-Control"] = "no-store, private, max-age=0"
    return response
