"""Carriers (快递公司) and their couriers (快递员)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jianjian.communities.models import Community
from jianjian.communities.phones import normalize_phone


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


class Courier(models.Model):
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="couriers")
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20)
    communities = models.ManyToManyField(Community, verbose_name=_("communities"), blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("courier")
        verbose_name_plural = _("couriers")

    def __str__(self) -> str:
        return f"{self.name} ({self.carrier})"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.phone = normalize_phone(self.phone)
        super().save(*args, **kwargs)
