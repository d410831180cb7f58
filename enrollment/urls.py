from django.urls import path

from enrollment import views
from enrollment.models import HolderKind
from enrollment.wizard import EnrollmentWizard

app_name = "enrollment"

urlpatterns = [
    path("enroll/", views.choose, name="choose"),
    path("enroll/personal/", EnrollmentWizard.as_view(kind=HolderKind.PERSONAL), name="personal"),
    path("enroll/system/", EnrollmentWizard.as_view(kind=HolderKind.SYSTEM), name="system"),
    path("enroll/<uuid:public_id>/", views.installation, name="installation"),
    path("cps/", views.policy, name="policy"),
    path("cps/<str:version>/", views.policy, name="policy-version"),
]
