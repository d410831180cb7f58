from django.conf import settings
from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, object]:
    return {"portal_name": settings.PORTAL_NAME, "portal_url": settings.PORTAL_URL}
