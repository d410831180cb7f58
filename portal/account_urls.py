"""The holder's pages after installation: certificate login and dashboard."""

from django.urls import path

from portal import dashboard, login

app_name = "portal"

urlpatterns = [
    path("inloggen/", login.login, name="login"),
    path("inloggen/authenticator/", login.authenticator_setup, name="authenticator-setup"),
    path("uitloggen/", login.logout, name="logout"),
    path("mijn/", dashboard.dashboard, name="dashboard"),
    path("mijn/certificaten/<str:serial>/keten.pem", dashboard.download_chain, name="chain"),
    path("mijn/certificaten/<str:serial>/intrekken/", dashboard.revoke, name="revoke"),
    path("mijn/wachtwoord/", dashboard.change_password, name="change-password"),
    path("mijn/authenticator/", dashboard.reset_authenticator, name="reset-authenticator"),
]
