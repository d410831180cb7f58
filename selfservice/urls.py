"""The holder's pages after installation: certificate login and dashboard."""

from django.urls import path, register_converter

from selfservice import dashboard, login
from selfservice.renewal import RenewalWizard


class BlockAction:
    regex = "block|unblock"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(BlockAction, "block_action")

app_name = "portal"

urlpatterns = [
    path("inloggen/", login.login, name="login"),
    path("inloggen/authenticator/", login.authenticator_setup, name="authenticator-setup"),
    path("uitloggen/", login.logout, name="logout"),
    path("mijn/", dashboard.dashboard, name="dashboard"),
    path("mijn/certificaten/<str:serial>/keten.pem", dashboard.download_chain, name="chain"),
    path("mijn/certificaten/<str:serial>/intrekken/", dashboard.revoke, name="revoke"),
    path("mijn/vernieuwen/", RenewalWizard.as_view(), name="renew"),
    path("mijn/organisatie/", dashboard.organisation, name="organisation"),
    path(
        "mijn/organisatie/<str:user_number>/<block_action:action>/",
        dashboard.block_colleague,
        name="block-colleague",
    ),
    path("mijn/wachtwoord/", dashboard.change_password, name="change-password"),
    path("mijn/authenticator/", dashboard.reset_authenticator, name="reset-authenticator"),
]
