"""What residents and proxies bring beyond the community's records: a phone-verified sign-in,
the one-time codes behind it, and the complaint cases they raise (接诉即办)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jianjian.communities.models import Community, Resident


class PhoneAccount(models.Model):
    """The auth user behind a phone that proved itself with a one-time code.

    One per phone, whatever it is in each community: a resident (maybe in two communities), a
    proxy, or both. What the account may see is decided in :mod:`jianjian.access` from the phone.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="phone_account"
    )
    phone = models.CharField(_("phone"), max_length=20, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("phone account")
        verbose_name_plural = _("phone accounts")

    def __str__(self) -> str:
        return self.phone


class SignInCode(models.Model):
    """One 6-digit code sent to a phone. Only a keyed hash of the code is stored."""

    phone = models.CharField(max_length=20)
    ip = models.GenericIPAddressField(null=True, blank=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    # Set once: on success, on lockout (too many wrong tries) or when a newer code replaces it.
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["phone", "created_at"], name="signincode_phone"),
            models.Index(fields=["ip", "created_at"], name="signincode_ip"),
        ]

    def __str__(self) -> str:
        return f"{self.phone} @ {self.created_at:%Y-%m-%d %H:%M}"


class CaseKind(models.TextChoices):
    NOT_RECEIVED = "not_received", _("not received")
    DAMAGED = "damaged", _("damaged")
    WRONG_PARCEL = "wrong_parcel", _("wrong parcel")


class CaseState(models.TextChoices):
    OPEN = "open", pgettext_lazy("case state", "open")
    ANSWERED = "answered", pgettext_lazy("case state", "answered")
    CLOSED = "closed", pgettext_lazy("case state", "closed")


class Case(models.Model):
    """A resident's complaint about one parcel: it stays on the admin's list until closed."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    parcel = models.ForeignKey(
        "parcels.Parcel", on_delete=models.PROTECT, related_name="cases", verbose_name=_("parcel")
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="cases", verbose_name=_("resident")
    )
    kind = models.CharField(_("problem"), max_length=20, choices=CaseKind.choices)
    description = models.TextField(_("what happened"), max_length=2000)
    state = models.CharField(
        _("state"), max_length=10, choices=CaseState.choices, default=CaseState.OPEN
    )
    created_at = models.DateTimeField(_("reported"))
    answered_at = models.DateTimeField(_("first answer"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [models.Index(fields=["community", "state", "created_at"], name="case_queue")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}"


class CaseNote(models.Model):
    """One message on a case: the resident's report, an admin's answer, a closing note."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    at = models.DateTimeField()
    by_staff = models.BooleanField(default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    text = models.TextField(max_length=2000)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"case {self.case_id} @ {self.at:%Y-%m-%d %H:%M}"


class LinkState(models.TextChoices):
    PENDING = "pending", pgettext_lazy("link request state", "waiting")
    APPROVED = "approved", pgettext_lazy("link request state", "approved")
    REFUSED = "refused", pgettext_lazy("link request state", "refused")


class LinkRequest(models.Model):
    """A phone without a roster row asks to be the resident of a flat; an admin decides.

    The phone signed in with a one-time code, so it is proven; the flat and the name are only
    what the person typed until the community office approves them.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    phone = models.CharField(_("phone"), max_length=20)
    flat_code = models.CharField(_("flat"), max_length=20)
    name = models.CharField(_("name"), max_length=50)
    state = models.CharField(
        _("state"), max_length=10, choices=LinkState.choices, default=LinkState.PENDING
    )
    created_at = models.DateTimeField(_("asked"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    # The roster row the approval created or found.
    resident = models.ForeignKey(
        Resident, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("link request")
        verbose_name_plural = _("link requests")
        constraints = [
            # One open question per phone and community: asking again edits nothing twice.
            models.UniqueConstraint(
                fields=["community", "phone"],
                condition=models.Q(state="pending"),
                name="linkrequest_one_pending",
            )
        ]
        indexes = [
            models.Index(fields=["community", "state", "created_at"], name="linkrequest_queue")
        ]

    def __str__(self) -> str:
        return f"{self.phone} → {self.flat_code} ({self.state})"
