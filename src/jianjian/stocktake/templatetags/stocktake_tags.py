from django import template

from jianjian.stocktake.models import ResolutionAction
from jianjian.stocktake.services import KIND_LABELS

register = template.Library()


@register.filter
def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


@register.filter
def action_label(action: str) -> str:
    try:
        return str(ResolutionAction(action).label)
    except ValueError:
        return action
