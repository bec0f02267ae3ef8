"""Masks for what the counter shows bystanders: the same as the pickup lookup shows."""

from __future__ import annotations

from django import template

from jianjian.parcels.models import Parcel
from jianjian.parcels.queries import holder_label

register = template.Library()


@register.filter
def masked_holder(holder: str, parcel: Parcel) -> str:
    """Who collected ``parcel``: the recipient's name masked (``彭*``), a proxy as recorded."""
    return holder_label(holder, parcel)
