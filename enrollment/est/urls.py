"""/.well-known/est/ (RFC 7030 section 3.2.2), with and without a label."""

from django.urls import path

from enrollment.est import views

app_name = "est"

OPERATIONS = {
    "cacerts": views.cacerts,
    "csrattrs": views.csrattrs,
    "simpleenroll": views.simpleenroll,
    "simplereenroll": views.simplereenroll,
}

urlpatterns = [
    *[path(name, view, name=name) for name, view in OPERATIONS.items()],
    *[
        path(f"<slug:label>/{name}", view, name=f"{name}-labelled")
        for name, view in OPERATIONS.items()
    ],
]
