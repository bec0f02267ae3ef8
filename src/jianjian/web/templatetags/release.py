"""The running release, for the page footer (an operator asked "which version is this?")."""

from django import template

from jianjian import __version__

register = template.Library()


@register.simple_tag
def jianjian_version() -> str:
    return __version__
