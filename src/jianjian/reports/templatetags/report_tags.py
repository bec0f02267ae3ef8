from django import template

register = template.Library()


@register.filter
def pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


@register.filter
def hours(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} h"
