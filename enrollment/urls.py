from django.urls import path

from enrollment import api, captcha, handoff, install_again, views
from enrollment.models import HolderKind
from enrollment.wizard import EnrollmentWizard

app_name = "enrollment"
personal_wizard = EnrollmentWizard.as_view(
    kind=HolderKind.PERSONAL, url_name="enrollment:personal-step"
)
system_wizard = EnrollmentWizard.as_view(kind=HolderKind.SYSTEM, url_name="enrollment:system-step")

urlpatterns = [
    path("enroll/", views.choose, name="choose"),
    # Each wizard at its entry (which sends on to the step to resume) and one URL per step.
    path("enroll/personal/", personal_wizard, name="personal"),
    path("enroll/personal/<slug:step>/", personal_wizard, name="personal-step"),
    path("enroll/system/", system_wizard, name="system"),
    path("enroll/system/<slug:step>/", system_wizard, name="system-step"),
    path("enroll/<uuid:public_id>/", views.installation, name="installation"),
    path("enroll/<uuid:public_id>/opnieuw/", install_again.install_again, name="install-again"),
    path("enroll/<uuid:public_id>/status", views.installation_status, name="installation-status"),
    path("enroll/<uuid:public_id>/installer/", views.download_installer, name="installer"),
    path("enroll/<uuid:public_id>/install-code/", views.show_install_code, name="install-code"),
    path("enroll/<uuid:public_id>/mail-link/", handoff.mail_link, name="mail-link"),
    path("enroll/<uuid:public_id>/link-qr.svg", handoff.link_qr, name="link-qr"),
    path("api/v1/csr", api.submit_csr, name="api-csr"),
    path("api/v1/status", api.status, name="api-status"),
    path("api/v1/certificate", api.certificate, name="api-certificate"),
    path("api/v1/tls-check", api.tls_check, name="api-tls-check"),
    path("api/v1/openapi.json", api.openapi, name="api-openapi"),
    # Before the library's captcha URLs (config/urls.py): the audio that ships with the project.
    path("captcha/audio/<str:language>/<str:key>.wav", captcha.audio, name="captcha-audio"),
    path("captcha/refresh/", captcha.refresh, name="captcha-refresh"),
    path("cps/", views.policy, name="policy"),
    path("cps/<str:version>/", views.policy, name="policy-version"),
]
