from django.urls import path

from enrollment import api, views
from enrollment.models import HolderKind
from enrollment.wizard import EnrollmentWizard

app_name = "enrollment"

urlpatterns = [
    path("enroll/", views.choose, name="choose"),
    path("enroll/personal/", EnrollmentWizard.as_view(kind=HolderKind.PERSONAL), name="personal"),
    path("enroll/system/", EnrollmentWizard.as_view(kind=HolderKind.SYSTEM), name="system"),
    path("enroll/<uuid:public_id>/", views.installation, name="installation"),
    path("enroll/<uuid:public_id>/status", views.installation_status, name="installation-status"),
    path("enroll/<uuid:public_id>/installer/", views.download_installer, name="installer"),
    path("enroll/<uuid:public_id>/install-code/", views.show_install_code, name="install-code"),
    path("api/v1/csr", api.submit_csr, name="api-csr"),
    path("api/v1/status", api.status, name="api-status"),
    path("api/v1/certificate", api.certificate, name="api-certificate"),
    path("api/v1/tls-check", api.tls_check, name="api-tls-check"),
    path("api/v1/openapi.json", api.openapi, name="api-openapi"),
    path("cps/", views.policy, name="policy"),
    path("cps/<str:version>/", views.policy, name="policy-version"),
]
