"""The wizard's forms, one per step of the seed's manual (steps 2 to 6).

A form that takes a secret (the PIN, the password) can be built in two ways: from what the
person typed, when it checks the secret, or "already verified" when the wizard re-validates
its stored steps at the end. Secrets are never stored, so the second way does not ask for
them again and does not count a PIN attempt again.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from enrollment import user_numbers
from enrollment.captcha import SingleUseCaptchaField
from enrollment.models import (
    CERTIFICATE_NAME_MAX_LENGTH,
    ActivationCode,
    BlockReason,
    Enrollment,
    Holder,
    HolderKind,
    PinCheck,
    PinVerdict,
)

# From this wrong PIN on, the page says how many attempts are left.
WARN_FROM_ATTEMPT = 3
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 64
DUTCH_MONTHS = ["JAN", "FEB", "MRT", "APR", "MEI", "JUN", "JUL", "AUG", "SEP", "OKT", "NOV", "DEC"]


class WizardStepForm(forms.Form):
    """A step form that knows which of its fields must never be stored."""

    secret_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, holder: Holder | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.holder = holder


@dataclass(frozen=True)
class VerifiedHolder:
    """What the wizard remembers after the user-data step: ids, never the PIN."""

    holder_id: int
    activation_code_id: int | None
    user_number: str


class UserDataForm(WizardStepForm):
    secret_fields = ("pin", "captcha")

    user_number = forms.CharField(
        label=_("User number"),
        max_length=40,
        error_messages={"required": _("Enter your 14-digit user number.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "username"}),
    )
    pin = forms.CharField(
        label=_("PIN"),
        max_length=40,
        error_messages={"required": _("Enter the PIN that your contact person received.")},
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "one-time-code"}),
    )
    captcha = SingleUseCaptchaField(
        label=_("Copy the digits in the image below"),
        error_messages={
            "invalid": _("The digits do not match the image. Copy the new digits."),
            "required": _("Copy the digits in the image."),
            "incomplete": _("Copy the digits in the image."),
        },
    )

    def __init__(
        self, *args: Any, kind: str, verified: VerifiedHolder | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.verified = verified
        self.verdict: PinVerdict | None = None
        if verified is not None:
            # Re-validation at the end: the PIN and captcha were checked when typed.
            del self.fields["pin"]
            del self.fields["captcha"]

    def clean_user_number(self) -> str:
        number = user_numbers.normalise(self.cleaned_data["user_number"])
        if not (number.isascii() and number.isdigit()) or len(number) != user_numbers.LENGTH:
            raise ValidationError(
                _("A user number has exactly 14 digits."), code="user_number_format"
            )
        if not user_numbers.is_valid(number):
            raise ValidationError(
                _("This user number contains a typing error. Check the 14 digits."),
                code="user_number_checksum",
            )
        return number

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            # A mistyped number or an unsolved captcha must not cost a PIN attempt.
            return cleaned
        if self.verified is not None:
            self._revalidate(cleaned["user_number"])
            return cleaned
        verdict = ActivationCode.verify(cleaned["user_number"], cleaned["pin"])
        self.verdict = verdict
        if verdict.result is PinCheck.WRONG:
            raise ValidationError(self._wrong_pin_message(verdict.attempts_left), code="pin_wrong")
        if verdict.result is PinCheck.BLOCKED:
            if verdict.holder is None or verdict.holder.block_reason == BlockReason.PIN_ATTEMPTS:
                # The same words for a number that does not exist (enrollment.pin_attempts).
                raise ValidationError(
                    _(
                        "This user number is blocked after %(count)d wrong PINs. Only a new PIN "
                        "unblocks it: ask your contact person, who can request one for you."
                    ),
                    params={"count": settings.PIN_MAX_ATTEMPTS},
                    code="blocked_pin_attempts",
                )
            raise ValidationError(
                _(
                    "This user number is blocked. Your contact person or the portal's registration "
                    "desk can tell you why and unblock it."
                ),
                code="blocked",
            )
        assert verdict.holder is not None
        if verdict.result is PinCheck.EXPIRED:
            raise ValidationError(
                _("This PIN has expired. Ask your contact person for a new PIN."),
                code="pin_expired",
            )
        if verdict.result is PinCheck.USED:
            raise ValidationError(
                _(
                    "This PIN has already been used to request a certificate. Ask your contact "
                    "person for a new PIN."
                ),
                code="pin_used",
            )
        self._check_kind(verdict.holder)
        return cleaned

    @staticmethod
    def _wrong_pin_message(attempts_left: int | None) -> str:
        wrong = _("The combination of user number and PIN is not correct.")
        used = settings.PIN_MAX_ATTEMPTS - (attempts_left or 0)
        if attempts_left is None or used < WARN_FROM_ATTEMPT:
            return str(wrong)
        left = ngettext(
            "You have %(count)d more attempt; after that this user number is blocked.",
            "You have %(count)d more attempts; after that this user number is blocked.",
            attempts_left,
        ) % {"count": attempts_left}
        return f"{wrong} {left}"

    def _check_kind(self, holder: Holder) -> None:
        if holder.kind == self.kind:
            return
        if holder.kind == HolderKind.SYSTEM:
            message = _(
                "This user number is for a system certificate. Go back to step 1 and choose "
                "“Install a system certificate”."
            )
        else:
            message = _(
                "This user number is for a personal certificate. Go back to step 1 and choose "
                "“Install a personal certificate”."
            )
        raise ValidationError(message, code="wrong_kind")

    def _revalidate(self, user_number: str) -> None:
        assert self.verified is not None
        holder = self.holder  # as the wizard read it in this request
        if holder is None or holder.pk != self.verified.holder_id:
            holder = Holder.objects.filter(pk=self.verified.holder_id).first()
        if (
            holder is None
            or holder.user_number != user_number
            or user_number != self.verified.user_number
        ):
            raise ValidationError(_("Enter your user data again."), code="stale")
        if holder.is_blocked:
            raise ValidationError(
                _("This user number is blocked. Contact your contact person."), code="blocked"
            )
        self._check_kind(holder)

    def verified_holder(self) -> VerifiedHolder:
        assert self.verdict is not None and self.verdict.holder and self.verdict.code
        return VerifiedHolder(
            holder_id=self.verdict.holder.pk,
            activation_code_id=self.verdict.code.pk,
            user_number=self.verdict.holder.user_number,
        )


class EmailForm(WizardStepForm):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        error_messages={
            "required": _("Enter your e-mail address."),
            "invalid": _("Enter an e-mail address such as name@example.nl."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    email_repeat = forms.EmailField(
        label=_("Repeat e-mail address"),
        max_length=254,
        error_messages={
            "required": _("Enter your e-mail address again."),
            "invalid": _("Enter an e-mail address such as name@example.nl."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("email"), cleaned.get("email_repeat")
        if first and second and first.casefold() != second.casefold():
            self.add_error(
                "email_repeat",
                ValidationError(_("The two e-mail addresses are not the same."), code="mismatch"),
            )
        return cleaned


def suggest_certificate_name(holder: Holder, today: date) -> str:
    """A default in the spirit of the seed's "2DEC24-1" that fits the 7-character rule."""
    stem = f"{today.day}{DUTCH_MONTHS[today.month - 1]}"
    candidates = [f"{stem}-{n}" for n in range(1, 10)] + [f"{stem}{n:02d}" for n in range(10, 100)]
    for candidate in candidates:
        if len(candidate) <= CERTIFICATE_NAME_MAX_LENGTH and not Enrollment.objects.name_taken(
            holder, candidate
        ):
            return candidate
    return ""


class CertificateNameForm(WizardStepForm):
    certificate_name = forms.CharField(
        label=_("Certificate name"),
        max_length=CERTIFICATE_NAME_MAX_LENGTH,
        help_text=_("Maximum 7 characters: letters, digits and the hyphen (-)."),
        error_messages={
            "required": _("Enter a name for your certificate."),
            "max_length": _(
                "A certificate name has at most 7 characters (you typed %(show_value)d)."
            ),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Without maxlength a pasted "2DEC24-1" (the manual's own example) is not silently
        # cut to seven characters: the person sees why it is refused.
        self.fields["certificate_name"].widget.attrs.pop("maxlength", None)

    def clean_certificate_name(self) -> str:
        name: str = self.cleaned_data["certificate_name"].strip()
        allowed = set(string.ascii_letters + string.digits + "-")
        bad = sorted({ch for ch in name if ch not in allowed})
        if bad:
            raise ValidationError(
                _("These characters are not allowed: %(chars)s. Use letters, digits and -."),
                params={"chars": " ".join(str(_("space")) if ch.isspace() else ch for ch in bad)},
                code="characters",
            )
        if self.holder is not None and Enrollment.objects.name_taken(self.holder, name):
            raise ValidationError(
                _("You already have a certificate named “%(name)s”. Choose another name."),
                params={"name": name},
                code="taken",
            )
        return name


def check_password_rule(password: str) -> None:
    """The seed's rule: 8 to 64 characters, a lower-case and upper-case letter, digit, punctuation."""
    missing = []
    if not any(ch in string.ascii_lowercase or (ch.isalpha() and ch.islower()) for ch in password):
        missing.append(_("a lower-case letter"))
    if not any(ch.isalpha() and ch.isupper() for ch in password):
        missing.append(_("an upper-case letter"))
    if not any(ch.isdigit() for ch in password):
        missing.append(_("a digit"))
    if not any(ch in string.punctuation for ch in password):
        missing.append(_("a punctuation mark"))
    errors = []
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        errors.append(
            ValidationError(
                _("Your password must be 8 to 64 characters long (it has %(length)d)."),
                params={"length": len(password)},
                code="password_length",
            )
        )
    if missing:
        errors.append(
            ValidationError(
                _("Your password is missing: %(missing)s."),
                params={"missing": ", ".join(str(m) for m in missing)},
                code="password_classes",
            )
        )
    if errors:
        raise ValidationError(errors)


class PasswordForm(WizardStepForm):
    secret_fields = ("password", "password_repeat")

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=200,
        error_messages={"required": _("Choose a password.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Your password must be at least 8 and at most 64 characters long, with at least 1 "
            "lower-case letter, 1 upper-case letter, 1 digit and 1 punctuation mark."
        ),
    )
    password_repeat = forms.CharField(
        label=_("Confirm password"),
        strip=False,
        max_length=200,
        error_messages={"required": _("Enter the password again.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, already_set: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if already_set:
            # Re-validation at the end: only the hash was kept, and it was valid when made.
            self.fields.clear()

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        check_password_rule(password)
        # Django's validators compare with the holder's name and user number (see settings).
        password_validation.validate_password(password, user=self.holder)  # type: ignore[arg-type]
        return password

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password"), cleaned.get("password_repeat")
        if first and second is not None and first != second:
            self.add_error(
                "password_repeat",
                ValidationError(_("The two passwords are not the same."), code="mismatch"),
            )
        return cleaned


class ConsentForm(WizardStepForm):
    consent_certificate_use = forms.BooleanField(
        label=_("I agree to the terms above."),
        error_messages={"required": _("Agree to the terms of certificate use to continue.")},
    )
    consent_software = forms.BooleanField(
        label=_("I agree to the terms above."),
        error_messages={"required": _("Agree to the terms of the software to continue.")},
    )
