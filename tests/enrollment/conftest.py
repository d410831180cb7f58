"""Fixtures of the wizard's tests: a holder with a fresh PIN, and a walker at step 2."""

from __future__ import annotations

import pytest
from django.test import Client

from enrollment.models import Holder
from tests.enrollment.factories import issue_holder
from tests.enrollment.wizard_client import WizardWalker


@pytest.fixture
def holder_and_pin(db: None) -> tuple[Holder, str]:
    return issue_holder("personal")


@pytest.fixture
def walker(client: Client) -> WizardWalker:
    walker = WizardWalker(client)
    walker.start()
    return walker
