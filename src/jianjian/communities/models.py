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

from jianjian.communities.phones import last4, mask_phone, normalize_phone
from jianjian.roles import Role

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
    # Pre-advice that ends by itself (jianjian.notify.sweeps.sweep_rounds, once a local day):
    # an announced parcel older than this ends, and so does one the drop plan has found no room
    # for during more than that many days.
    announced_expire_days = models.PositiveSmallIntegerField(
        _("pre-advice expires after (days)"),
        default=7,
        help_text=_("An announced parcel that has not arrived after this many days ends."),
    )
    overflow_release_days = models.PositiveSmallIntegerField(
        _("overflow released after (days)"),
        default=2,
        help_text=_(
            "An announced parcel the drop plan has found no room for during more than this many "
            "days is released: the courier delivers it otherwise."
        ),
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
    # The 【…】 sign of the community's SMS; empty means the community's name.
    sms_signature = models.CharField(_("SMS signature"), max_length=20, blank=True)
    default_language = models.CharField(
        _("default language"),
        max_length=10,
        choices=[("zh-hans", "简体中文"), ("en", "English")],
        default="zh-hans",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")

    def __str__(self) -> str:
        return self.name

    @property
    def sms_sign(self) -> str:
        """The signature the community's SMS carry."""
        return self.sms_signature or self.name

    def clean(self) -> None:
        hours = self.reminder_hours
        if not isinstance(hours, list) or not all(isinstance(h, int) and h > 0 for h in hours):
            raise ValidationError(
                {"reminder_hours": gettext("Reminders must be a list of positive whole hours.")}
            )
        if self.hold_days < 1:
            raise ValidationError({"hold_days": gettext("The hold period is at least one day.")})
        if not 1 <= self.announced_expire_days <= 60:
            raise ValidationError(
                {
                    "announced_expire_days": gettext(
                        "Pre-advice expires after between 1 and 60 days."
                    )
                }
            )
        if not 1 <= self.overflow_release_days <= 30:
            raise ValidationError(
                {
                    "overflow_release_days": gettext(
                        "Overflow is released after between 1 and 30 days."
                    )
                }
            )


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
    # A resident who moved out is deactivated, never deleted: new parcels no longer match them,
    # their parcels' history stays. The phone stays theirs in the community (unique), so a
    # roster naming it again reactivates the same row.
    active = models.BooleanField(_("lives here"), default=True)
    moved_out_at = models.DateTimeField(_("moved out"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        constraints = [
            models.UniqueConstraint(fields=["community", "phone"], name="resident_unique_phone")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.flat})"

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    def clean(self) -> None:
        try:
            self.phone = normalize_phone(self.phone)
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages}) from None

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.phone = normalize_phone(self.phone)
        self.phone_last4 = last4(self.phone)
        super().save(*args, **kwargs)


class PickupProxyQuerySet(models.QuerySet["PickupProxy"]):
    def live(self, at: dt.datetime) -> PickupProxyQuerySet:
        """Grants that may collect at ``at``: neither revoked nor expired (the one spelling of a
        live grant; :meth:`PickupProxy.is_active` is the same rule for one grant in hand)."""
        return self.filter(revoked_at__isnull=True, valid_until__gt=at)


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

    objects = PickupProxyQuerySet.as_manager()

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
    ADMIN = Role.ADMIN.value, _("community admin")
    COMMITTEE = Role.COMMITTEE.value, _("committee member")
    CLERK = Role.CLERK.value, _("clerk")


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


class AccessVersion(models.Model):
    """One row whose number the database raises whenever who may work at which point can have
    changed: a staff membership, its points, a point switched off, moved or removed (triggers:
    communities/access_triggers.py). A process remembers a clerk's points for as long as the
    number it reads with each request's token stays the same (access.api_scan_point)."""

    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.version)


class Invitation(models.Model):
    """A one-time link that lets an invited staff member or courier set their password.

    Only a SHA-256 hash of the link's secret is stored; the link works once and until
    ``expires_at``. The account (and its membership or courier row) exists from the invitation
    on, with no usable password until the link is used.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations"
    )
    role = models.CharField(_("role"), max_length=20)  # a StaffRole or "courier"
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.CharField(_("invited by"), max_length=150)
    created_at = models.DateTimeField(_("invited"))
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        indexes = [models.Index(fields=["community", "user"], name="invitation_user")]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.role}"


class RosterUpload(models.Model):
    """A roster file read and checked, kept between its preview and the admin's confirmation.

    ``rows`` holds the normalised good rows (``[line, flat, phone, name, moved_out]``) and
    ``errors`` the bad ones, so the confirmation applies exactly what was previewed and never
    reads rows back from the browser. ``digest`` is the file content's hash.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64)
    filename = models.CharField(_("file"), max_length=200, blank=True)
    rows = models.JSONField(default=list)
    errors = models.JSONField(default=list)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("roster upload")
        verbose_name_plural = _("roster uploads")
        constraints = [
            models.UniqueConstraint(fields=["community", "digest"], name="roster_unique_digest")
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.filename}"
