"""Template filters of the attachments pages."""

from django import template

from applications.validators import human_size as _human_size

register = template.Library()


@register.filter
def human_size(size):
    """850 ko, 2,9 Mo: sizes in the unit of the call's limits."""
    return _human_size(size or 0)
