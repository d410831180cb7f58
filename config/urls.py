from django.contrib import admin
from django.urls import include, path

from config import views
from operations import metrics
from selfservice import system_api

handler400 = "config.views.bad_request"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("", include("selfservice.urls")),
    path("api/v1/system/whoami", system_api.whoami, name="system-whoami"),
    path(
        "api/v1/system/certificates",
        system_api.organisation_certificates,
        name="system-certificates",
    ),
    path(".well-known/est/", include("enrollment.est.urls")),
    path("", include("enrollment.urls")),
    path("", include("ca.urls")),
    path("captcha/", include("captcha.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
