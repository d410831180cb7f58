"""The registration authority's records: who may enroll, with which PIN, and what they agreed to.

One module a concern, each model with its queryset and manager beside it. The modules import
each other directly, never through this package, and in one direction only: holders import
organisations and the outbox (outgoing_mail); PINs and refused addresses import holders;
enrollments import holders, PINs and the CP/CPS versions (policies); install codes import
enrollments. This module only gathers them, so that Django finds every model and
``from enrollment.models import X`` works for each.
"""

from enrollment.models.enrollments import (
    CERTIFICATE_NAME_MAX_LENGTH,
    CERTIFICATE_NAME_PATTERN,
    ORDER_PROGRESS,
    Consent,
    ConsentGiven,
    ConsentKind,
    Enrollment,
    EnrollmentError,
    EnrollmentManager,
    EnrollmentQuerySet,
    EnrollmentStatus,
    Installation,
    InstallProgress,
)
from enrollment.models.holders import (
    PIN_LENGTH,
    UNBLOCKABLE_REASONS,
    BlockReason,
    Holder,
    HolderKind,
    HolderManager,
    HolderQuerySet,
    HolderStatus,
    validate_networks,
)
from enrollment.models.install_codes import InstallCode, InstallCodeManager, InstallCodeQuerySet
from enrollment.models.organisations import Organisation, OrganisationManager
from enrollment.models.outgoing_mail import OutgoingMail, OutgoingMailManager, OutgoingMailQuerySet
from enrollment.models.pins import ActivationCode, ActivationCodeQuerySet, PinCheck, PinVerdict
from enrollment.models.policies import PolicyDocument, PolicyDocumentQuerySet
from enrollment.models.refused_addresses import RefusedAddress, RefusedAddressManager

__all__ = [
    "CERTIFICATE_NAME_MAX_LENGTH",
    "CERTIFICATE_NAME_PATTERN",
    "ORDER_PROGRESS",
    "PIN_LENGTH",
    "UNBLOCKABLE_REASONS",
    "ActivationCode",
    "ActivationCodeQuerySet",
    "BlockReason",
    "Consent",
    "ConsentGiven",
    "ConsentKind",
    "Enrollment",
    "EnrollmentError",
    "EnrollmentManager",
    "EnrollmentQuerySet",
    "EnrollmentStatus",
    "Holder",
    "HolderKind",
    "HolderManager",
    "HolderQuerySet",
    "HolderStatus",
    "InstallCode",
    "InstallCodeManager",
    "InstallCodeQuerySet",
    "InstallProgress",
    "Installation",
    "Organisation",
    "OrganisationManager",
    "OutgoingMail",
    "OutgoingMailManager",
    "OutgoingMailQuerySet",
    "PinCheck",
    "PinVerdict",
    "PolicyDocument",
    "PolicyDocumentQuerySet",
    "RefusedAddress",
    "RefusedAddressManager",
    "validate_networks",
]
