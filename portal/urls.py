from django.contrib import admin
from django.urls import include, path

from portal import views

handler400 = "portal.views.bad_request"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("enrollment.urls")),
    path("captcha/", include("captcha.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
