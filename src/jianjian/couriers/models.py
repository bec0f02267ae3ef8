"""Carriers (快递公司) and their couriers (快递员)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jianjian.communities.models import Community
from jianjian.communities.phones import normalize_phone
from jianjian.roles import Role


class Carrier(models.Model):
    """A carrier, identified by a short code shared with the recognition rules (``sf``, ``jd``)."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=50)
    name_en = models.CharField(_("English name"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("carrier")
        verbose_name_plural = _("carriers")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class CourierQuerySet(models.QuerySet["Courier"]):
    def serving(self, carrier_id: int, community_id: int) -> CourierQuerySet:
        """Who to tell about a carrier's parcel that no courier announced: the carrier's active
        couriers serving the community, the longest-serving first."""
        return self.filter(carrier_id=carrier_id, active=True, communities=community_id).order_by(
            "pk"
        )


class Courier(models.Model):
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="couriers")
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20)
    communities = models.ManyToManyField(Community, verbose_name=_("communities"), blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    active = models.BooleanField(_("active"), default=True)

    objects = CourierQuerySet.as_manager()

    class Meta:
        verbose_name = _("courier")
        verbose_name_plural = _("couriers")

    def __str__(self) -> str:
        return f"{self.name} ({self.carrier})"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.phone = normalize_phone(self.phone)
        super().save(*args, **kwargs)


# --- issue 5: distances, manifests, overflow, API tokens, idempotency keys ------------------


class PointDistance(models.Model):
    """How far a building is from a collection point, as the community ranks it.

    The allocation tries the resident's preferred point first, then points in increasing
    ``distance`` from the recipient's building. Any unit will do (metres, minutes, a rank): only
    the order matters. A point missing from a building's table comes after every listed one.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    building = models.ForeignKey(
        "communities.Building",
        on_delete=models.CASCADE,
        related_name="point_distances",
        verbose_name=_("building"),
    )
    point = models.ForeignKey(
        "points.CollectionPoint",
        on_delete=models.CASCADE,
        related_name="building_distances",
        verbose_name=_("point"),
    )
    distance = models.PositiveIntegerField(_("distance"))

    class Meta:
        verbose_name = _("building–point distance")
        verbose_name_plural = _("building–point distances")
        constraints = [
            models.UniqueConstraint(fields=["building", "point"], name="distance_unique_pair")
        ]

    def __str__(self) -> str:
        return f"{self.building_id} → {self.point_id}: {self.distance}"


class Manifest(models.Model):
    """One pre-advice sent by a courier or a carrier system (a JSON list, a CSV or an XLSX).

    ``digest`` identifies the content: re-sending the same manifest finds this row and changes
    nothing.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="manifests")
    courier = models.ForeignKey(
        Courier,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="manifests",
        verbose_name=_("courier"),
    )
    carrier = models.ForeignKey(
        Carrier, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("carrier")
    )
    source = models.CharField(_("source"), max_length=10)  # json | csv | xlsx
    filename = models.CharField(_("file"), max_length=200, blank=True)
    digest = models.CharField(max_length=64)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    imported = models.PositiveIntegerField(_("imported"), default=0)
    already_known = models.PositiveIntegerField(_("already known"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    # [{"line": 3, "field": "phone", "code": "phone_invalid", "message": "..."}]
    errors = models.JSONField(_("bad rows"), default=list, blank=True)
    created_by = models.CharField(_("sent by"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        verbose_name = _("manifest")
        verbose_name_plural = _("manifests")
        constraints = [
            models.UniqueConstraint(fields=["community", "digest"], name="manifest_unique_digest")
        ]
        indexes = [models.Index(fields=["community", "created_at"], name="manifest_created")]

    def __str__(self) -> str:
        return f"{self.community_id} {self.source} {self.created_at:%Y-%m-%d %H:%M}"


class Overflow(models.Model):
    """An announced parcel the allocation could place nowhere today, and why (never dropped)."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    parcel = models.OneToOneField(
        "parcels.Parcel", on_delete=models.CASCADE, related_name="overflow"
    )
    # Stable reason codes joined by commas: no_capacity, locker_consent, compartment_size,
    # no_points.
    reasons = models.CharField(_("reasons"), max_length=100)
    # When the allocation first found these reasons; a re-allocation reaching the same verdict
    # keeps the row as it is (it rewrites only rows that change).
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        verbose_name = _("overflow parcel")
        verbose_name_plural = _("overflow parcels")

    def __str__(self) -> str:
        return f"{self.parcel_id}: {self.reasons}"


class TokenRole(models.TextChoices):
    COURIER = Role.COURIER.value, _("courier")
    INTEGRATION = Role.INTEGRATION.value, _("carrier system")
    CLERK = Role.CLERK.value, _("clerk")
    ADMIN = Role.ADMIN.value, _("community admin")
    RESIDENT = Role.RESIDENT.value, _("resident")


class ApiToken(models.Model):
    """A bearer token for the API. Only a SHA-256 hash of the secret is stored.

    The token acts for ``user`` with ``role``: a courier token sees what the user's courier
    sees; an integration token sees its ``carrier``'s parcels in ``communities``. A token with
    no role is refused. ``can_write`` false makes any token read-only. A token past
    ``expires_at`` is refused like a revoked one.
    """

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    role = models.CharField(_("role"), max_length=12, choices=TokenRole.choices, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_tokens",
    )
    carrier = models.ForeignKey(
        Carrier, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("carrier")
    )
    communities = models.ManyToManyField(Community, verbose_name=_("communities"), blank=True)
    can_write = models.BooleanField(_("may write"), default=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # None: until revoked. Past it the token answers 401 like a revoked one.
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class IdempotencyKey(models.Model):
    """A POST's ``Idempotency-Key``: the request's hash and the first answer, replayed on retry."""

    scope = models.CharField(max_length=64)  # who sent it: a hash of the token or the user id
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True)  # null while the first is running
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_unique_key")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.scope[:8]} {self.key}"
