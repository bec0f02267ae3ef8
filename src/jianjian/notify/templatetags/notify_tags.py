"""``{% parcel_notifications parcel %}``: the parcel's messages and their delivery status, for
staff pages (the counter's parcel page). The page's own permission check applies: this tag
shows only what concerns a parcel the viewer already sees."""

from __future__ import annotations

from typing import Any

from django import template

from jianjian.communities.phones import mask_name, mask_phone
from jianjian.notify.models import Channel, Notification

register = template.Library()


def _masked(row: Notification) -> str:
    if row.channel == Channel.EMAIL:
        name, _at, domain = row.address.partition("@")
        return f"{name[:1]}***@{domain}"
    if row.robot_id is not None:
        return row.address
    return mask_phone(row.address) if row.address.startswith("+") else row.address


@register.inclusion_tag("notify/_parcel_notifications.html")
def parcel_notifications(parcel: Any) -> dict[str, Any]:
    rows = list(Notification.objects.filter(parcel=parcel).order_by("created_at", "pk"))
    name = (getattr(parcel, "recipient_name", "") or "").strip()
    for row in rows:
        row.masked_address = _masked(row)  # type: ignore[attr-defined]
        # The counter masks the recipient's name everywhere, the messages' text included.
        row.shown_body = row.body.replace(name, mask_name(name)) if name else row.body  # type: ignore[attr-defined]
    return {"notifications": rows}
