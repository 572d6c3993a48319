"""Filters for reading a submission snapshot (its dates are ISO 8601 strings)."""

from django import template
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from applications.services.submission import paris_datetime

register = template.Library()


@register.filter
def snapshot_datetime(value):
    """« 31 mai 2019 à 23 h 58 min 12 s » (Paris time) from the snapshot's ISO 8601 string; "" when absent."""
    moment = parse_datetime(value) if value else None
    return paris_datetime(moment, seconds=True) if moment else ""


@register.filter
def yes_no(answer):
    """An eligibility answer: Oui, Non, or Sans réponse."""
    if answer is None:
        return _("Sans réponse")
    return _("Oui") if answer else _("Non")


@register.filter
def paris_seconds(value):
    """An aware datetime as « 31 mai 2019 à 23 h 58 min 12 s » (Paris time)."""
    return paris_datetime(value, seconds=True) if value else ""
