from django.urls import path, re_path

from ca import views

app_name = "ca"

urlpatterns = [
    path("ca/", views.certificates, name="certificates"),
    re_path(
        r"^ca/(?P<slug>[-a-z0-9]+)\.(?P<extension>crt|pem)$", views.certificate, name="certificate"
    ),
    re_path(r"^crl/(?P<slug>[-a-z0-9]+)\.(?P<extension>crl|pem)$", views.crl, name="crl"),
    path("ocsp", views.ocsp_post, name="ocsp"),
    re_path(r"^ocsp/(?P<encoded>.+)$", views.ocsp_get, name="ocsp-get"),
]
