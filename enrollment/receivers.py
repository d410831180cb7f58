"""The registration authority's side of the CA's reports (ca.signals): enrollment states and
the progress announcements that wake waiting installers and step-7 pages."""

from __future__ import annotations

import uuid
from typing import Any

from django.dispatch import receiver

from ca import interface as ca
from core.progress_events import announce
from enrollment.models import Enrollment, InstallProgress


@receiver(ca.signing_started, dispatch_uid="enrollment.signing_started")
def signing_started(sender: Any, references: list[uuid.UUID], **kwargs: Any) -> None:
    announce(*[(str(reference), InstallProgress.SIGNING) for reference in references])


@receiver(ca.certificates_issued, dispatch_uid="enrollment.certificates_issued")
def certificates_issued(sender: Any, issued: list[ca.IssuedCertificate], **kwargs: Any) -> None:
    Enrollment.objects.record_issued({each.reference: each.certificate_id for each in issued})
    announce(*[(str(each.reference), InstallProgress.ISSUED) for each in issued])


@receiver(ca.orders_failed, dispatch_uid="enrollment.orders_failed")
def orders_failed(sender: Any, failed: list[ca.FailedOrder], **kwargs: Any) -> None:
    announce(*[(str(each.reference), InstallProgress.FAILED) for each in failed])
