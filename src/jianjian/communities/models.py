"""The community (tenant), its policy, its buildings and flats, residents and staff roles."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jianjian.communities.phones import last4, normalize_phone

if TYPE_CHECKING:
    from jianjian.parcels.models import Parcel
    from jianjian.points.models import CollectionPoint


def default_reminder_hours() -> list[int]:
    return [24, 48]


class Community(models.Model):
    """A residential community (社区): the tenant. Its policy lives on the same row."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("short name"), max_length=50, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=50, default="Asia/Shanghai")
    hold_days = models.PositiveSmallIntegerField(
        _("hold period (days)"),
        default=7,
        help_text=_("A parcel not collected after this many days is dead and returned."),
    )
    reminder_hours = models.JSONField(
        _("reminders (hours after intake)"), default=default_reminder_hours
    )
    escalation_delay_hours = models.PositiveSmallIntegerField(
        _("escalate to the committee after (hours)"), default=48
    )
    digest_hour = models.PositiveSmallIntegerField(_("daily digest hour"), default=19)
    quiet_start = models.TimeField(_("quiet hours start"), default=dt.time(21, 0))
    quiet_end = models.TimeField(_("quiet hours end"), default=dt.time(8, 0))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        hours = self.reminder_hours
        if not isinstance(hours, list) or not all(isinstance(h, int) and h > 0 for h in hours):
            raise ValidationError(
                {"reminder_hours": gettext("Reminders must be a list of positive whole hours.")}
            )
        if self.hold_days < 1:
            raise ValidationError({"hold_days": gettext("The hold period is at least one day.")})


class Building(models.Model):
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="buildings")
    number = models.CharField(_("building number"), max_length=10)
    name = models.CharField(_("name"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        constraints = [
            models.UniqueConstraint(fields=["community", "number"], name="building_unique_number")
        ]

    def __str__(self) -> str:
        return self.name or gettext("Building %(number)s") % {"number": self.number}


# Building-entrance-flat, written 3-2-501. Full-width digits and dashes are normalised first.
FLAT_RE = re.compile(
    r"^(?P<building>[0-9A-Za-z]{1,6})-(?P<entrance>[0-9]{1,3})-(?P<flat>[0-9A-Za-z]{1,6})$"
)
_DASHES = str.maketrans({"—": "-", "–": "-", "‐": "-", "－": "-", "#": "-"})


def normalize_flat_code(raw: str) -> str:
    """``３－２－５０１`` or ``3 - 2 - 501`` → ``3-2-501``; raise ValidationError if malformed."""
    text = unicodedata.normalize("NFKC", raw or "").translate(_DASHES)
    text = "".join(text.split()).upper()
    if not FLAT_RE.match(text):
        raise ValidationError(
            gettext("“%(flat)s” is not a flat; write building-entrance-flat, e.g. 3-2-501.")
            % {"flat": raw},
            code="flat_invalid",
        )
    return text


class Flat(models.Model):
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="flats")
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="flats")
    entrance = models.CharField(_("entrance"), max_length=3)
    number = models.CharField(_("flat number"), max_length=6)
    code = models.CharField(_("flat"), max_length=20, help_text=_("Written 3-2-501."))

    class Meta:
        verbose_name = _("flat")
        verbose_name_plural = _("flats")
        constraints = [
            models.UniqueConstraint(fields=["community", "code"], name="flat_unique_code")
        ]

    def __str__(self) -> str:
        return self.code

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.code = f"{self.building.number}-{self.entrance}-{self.number}"
        super().save(*args, **kwargs)


class Resident(models.Model):
    """A person living in a flat, known by phone. The phone is stored in E.164."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="residents")
    flat = models.ForeignKey(Flat, on_delete=models.PROTECT, related_name="residents")
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20)
    # Denormalised from phone so "last 4 digits + flat" is an index lookup, not a scan.
    phone_last4 = models.CharField(max_length=4, editable=False, db_index=True)
    preferred_point = models.ForeignKey(
        "points.CollectionPoint",
        verbose_name=_("preferred point"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    locker_consent = models.BooleanField(_("parcels may go to a locker"), default=True)
    # The resident's own quiet hours; empty means the community's (Community.quiet_start/end).
    quiet_start = models.TimeField(_("quiet hours start"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours end"), null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        constraints = [
            models.UniqueConstraint(fields=["community", "phone"], name="resident_unique_phone")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.flat})"

    def clean(self) -> None:
        try:
            self.phone = normalize_phone(self.phone)
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages}) from None

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.phone = normalize_phone(self.phone)
        self.phone_last4 = last4(self.phone)
        super().save(*args, **kwargs)


class PickupProxy(models.Model):
    """A resident lets another phone collect for them: one parcel, or everything until expiry."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="proxies")
    phone = models.CharField(_("proxy phone"), max_length=20)
    name = models.CharField(_("proxy name"), max_length=50, blank=True)
    parcel = models.ForeignKey(
        "parcels.Parcel",
        verbose_name=_("only this parcel"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    valid_until = models.DateTimeField(_("valid until"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pickup proxy")
        verbose_name_plural = _("pickup proxies")
        indexes = [models.Index(fields=["community", "phone"], name="proxy_phone_idx")]

    def __str__(self) -> str:
        return f"{self.phone} → {self.resident}"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.phone = normalize_phone(self.phone)
        super().save(*args, **kwargs)

    def is_active(self, at: dt.datetime) -> bool:
        return self.revoked_at is None and at < self.valid_until

    def covers(self, parcel: Parcel) -> bool:
        """Whether this grant is for ``parcel``: the in-memory twin of a grant's clause in
        ``access._proxied_q``, for sorting parcels already read among several grants."""
        return (
            parcel.recipient_id == self.resident_id
            and parcel.community_id == self.community_id
            and (self.parcel_id is None or parcel.pk == self.parcel_id)
        )


class StaffRole(models.TextChoices):
    ADMIN = "admin", _("community admin")
    COMMITTEE = "committee", _("committee member")
    CLERK = "clerk", _("clerk")


class Membership(models.Model):
    """A staff user's role in one community; clerks are also bound to their points."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=StaffRole.choices)
    points: models.ManyToManyField[CollectionPoint, models.Model] = models.ManyToManyField(
        "points.CollectionPoint", verbose_name=_("points"), blank=True, related_name="clerks"
    )

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "community"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.community} · {self.get_role_display()}"
