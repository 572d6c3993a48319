"""Who reaches the staff area: one decorator and one fetch, shared by every staff page."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404

from ami.models import Call


def staff_required(view):
    """Visitors are sent to the login page; signed-in people who are not staff get a 404 (the page does
    not exist for them)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def staff_call(request, slug):
    """The call `slug` for a staff member; a 404 for anyone else."""
    if not request.user.is_staff:
        raise Http404
    return get_object_or_404(Call.objects.visible_to(request.user), slug=slug)
