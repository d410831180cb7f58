from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from enrollment.models import ActivationCode
from tests.enrollment.factories import issue_holder, make_policy
from tests.enrollment.wizard_client import WizardWalker
from tests.fixtures.ca import fixture_bytes, order_for

pytestmark = pytest.mark.django_db


def scrape(client: Client, **headers: Any) -> dict[str, float]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


def test_metrics_are_not_public(client: Client, settings: Any) -> None:
    settings.METRICS_ALLOWED_NETWORKS = []
    settings.METRICS_TOKEN = "s3cret-token-for-prometheus"
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert (
        client.get(
            "/metrics", headers={"Authorization": "Bearer s3cret-token-for-prometheus"}
        ).status_code
        == 200
    )


def test_the_funnel_pin_failures_and_lockouts_are_counted(client: Client, settings: Any) -> None:
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")]
    cache.clear()
    make_policy()
    holder, pin = issue_holder()
    other, _ = issue_holder(name="Ander")
    for attempt in range(5):
        ActivationCode.verify(other.user_number, f"0000000{attempt}")
    walker = WizardWalker(client)
    walker.complete(holder.user_number, pin)
    samples = scrape(client)
    assert (
        samples["portal_wizard_step_total{event=entered,kind=personal,step=gebruikersgegevens}"]
        == 1
    )
    assert samples["portal_wizard_step_total{event=completed,kind=personal,step=voorwaarden}"] == 1
    assert samples["portal_wizard_step_total{event=entered,kind=personal,step=wachtwoord}"] == 1
    assert samples["portal_pin_failures_total{}"] == 5
    assert samples["portal_holders_blocked{reason=pin_attempts}"] == 1
    assert samples["portal_orders{status=pending}"] == 0
    assert "portal_queue_depth{}" in samples


def test_issuance_time_and_crl_age_are_reported(
    client: Client,
    settings: Any,
    hierarchy: Any,
    make_enrollment: Any,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")]
    with django_capture_on_commit_callbacks(execute=True):
        order_for(make_enrollment(), fixture_bytes("p256.pem"))
    samples = scrape(client)
    assert samples["portal_csr_to_certificate_seconds_count{}"] == 1
    assert samples["portal_orders{status=issued}"] == 1
    assert any(name.startswith("portal_crl_age_seconds{ca=") for name in samples)
