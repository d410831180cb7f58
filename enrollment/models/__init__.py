"""The registration authority's records: who may enroll, with which PIN, and what they agreed to.

One module a concern, each with its model. The fields' choices are in
:mod:`enrollment.choices`; the querysets and managers in :mod:`enrollment.managers`, one module
per module here, which the models import and which name the models only for type checking.
The modules import each other directly, never through this package, and in one direction
only: holders import organisations and the outbox (outgoing_mail); PINs and refused
addresses import holders; consents import the CP/CPS versions (policies); enrollments
import holders, PINs and policies; install codes import enrollments; PIN handovers import
holders, and CSV imports import handovers. This module only gathers them, so that Django
finds every model and ``from enrollment.models import X`` works for each.
"""

from enrollment.choices import (
    BlockReason,
    Channel,
    ConsentKind,
    EnrollmentStatus,
    HandoverPurpose,
    HolderKind,
    HolderStatus,
    ImportState,
)
from enrollment.managers.enrollments import (
    ConsentGiven,
    EnrollmentError,
    EnrollmentManager,
    EnrollmentQuerySet,
)
from enrollment.managers.holders import HolderManager, HolderQuerySet
from enrollment.managers.install_codes import InstallCodeManager, InstallCodeQuerySet
from enrollment.managers.organisations import OrganisationManager
from enrollment.managers.outgoing_mail import OutgoingMailManager, OutgoingMailQuerySet
from enrollment.managers.pins import ActivationCodeQuerySet
from enrollment.managers.policies import PolicyDocumentQuerySet
from enrollment.managers.refused_addresses import RefusedAddressManager
from enrollment.models.consents import Consent
from enrollment.models.enrollments import (
    CERTIFICATE_NAME_MAX_LENGTH,
    CERTIFICATE_NAME_PATTERN,
    ORDER_PROGRESS,
    Enrollment,
    Installation,
    InstallProgress,
)
from enrollment.models.handovers import PinHandover
from enrollment.models.holders import (
    PIN_LENGTH,
    UNBLOCKABLE_REASONS,
    Holder,
    new_pin,
    validate_networks,
)
from enrollment.models.imports import HolderImport
from enrollment.models.install_codes import InstallCode
from enrollment.models.organisations import Organisation
from enrollment.models.outgoing_mail import OutgoingMail
from enrollment.models.pins import ActivationCode, PinCheck, PinVerdict
from enrollment.models.policies import PolicyDocument
from enrollment.models.refused_addresses import RefusedAddress

__all__ = [
    "CERTIFICATE_NAME_MAX_LENGTH",
    "CERTIFICATE_NAME_PATTERN",
    "ORDER_PROGRESS",
    "PIN_LENGTH",
    "UNBLOCKABLE_REASONS",
    "ActivationCode",
    "ActivationCodeQuerySet",
    "BlockReason",
    "Channel",
    "Consent",
    "ConsentGiven",
    "ConsentKind",
    "Enrollment",
    "EnrollmentError",
    "EnrollmentManager",
    "EnrollmentQuerySet",
    "EnrollmentStatus",
    "HandoverPurpose",
    "Holder",
    "HolderImport",
    "HolderKind",
    "HolderManager",
    "HolderQuerySet",
    "HolderStatus",
    "ImportState",
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
    "PinHandover",
    "PinVerdict",
    "PolicyDocument",
    "PolicyDocumentQuerySet",
    "RefusedAddress",
    "RefusedAddressManager",
    "new_pin",
    "validate_networks",
]
