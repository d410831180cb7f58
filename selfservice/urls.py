"""The holder's pages after installation: certificate login and dashboard."""

from django.urls import path, register_converter

from selfservice import dashboard, install_again, login
from selfservice.renewal import RenewalWizard


class BlockAction:
    regex = "block|unblock"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(BlockAction, "block_action")

app_name = "portal"
renewal_wizard = RenewalWizard.as_view(url_name="portal:renew-step")

urlpatterns = [
    path("inloggen/", login.login, name="login"),
    path("enroll/opnieuw/", install_again.identify, name="install-again"),
    path("inloggen/authenticator/", login.authenticator_setup, name="authenticator-setup"),
    path("uitloggen/", login.logout, name="logout"),
    path("mijn/", dashboard.dashboard, name="dashboard"),
    path("mijn/certificaten/<str:serial>/keten.pem", dashboard.download_chain, name="chain"),
    path("mijn/certificaten/<str:serial>/intrekken/", dashboard.revoke, name="revoke"),
    path("mijn/vernieuwen/", renewal_wizard, name="renew"),
    path("mijn/vernieuwen/<slug:step>/", renewal_wizard, name="renew-step"),
    path("mijn/organisatie/", dashboard.organisation, name="organisation"),
    path(
        "mijn/organisatie/<str:user_number>/<block_action:action>/",
        dashboard.block_colleague,
        name="block-colleague",
    ),
    path(
        "mijn/organisatie/<str:user_number>/opnieuw-installeren/",
        dashboard.install_system_again,
        name="install-system-again",
    ),
    path("mijn/wachtwoord/", dashboard.change_password, name="change-password"),
    path("mijn/authenticator/", dashboard.reset_authenticator, name="reset-authenticator"),
]
