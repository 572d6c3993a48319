"""The link of a jury invitation: creates or links the account, then seats the person on the jury."""

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from ami import ratelimits
from ami.models import User
from jury.forms_staff import InvitedAccountForm
from jury.services import invitations as service


def _refused(request, reason, status=400):
    return render(request, "jury/invitation_refused.html", {"reason": reason}, status=status)


def _page(request, invitation, mode, **context):
    context.update(invitation=invitation, call=invitation.call, mode=mode)
    return render(request, "jury/invitation_accept.html", context)


@ratelimits.per_ip("invitation-accept", ratelimits.INVITATION_ACCEPT)
def accept_invitation(request, token):
    """GET shows what the invitation is and the one step left; POST accepts it."""
    try:
        invitation = service.invitation_from_token(token)
    except ValidationError as error:
        return _refused(request, error.messages[0])
    user = request.user
    if user.is_authenticated:
        if user.email.lower() != invitation.email.lower():
            return _refused(request, _(
                "Cette invitation est adressée à %(invited)s, et vous êtes connecté avec %(current)s : "
                "déconnectez-vous, puis suivez de nouveau le lien."
            ) % {"invited": invitation.email, "current": user.email}, status=403)
        if request.method == "POST":
            return _accept(request, invitation, user)
        return _page(request, invitation, "confirm")
    if User.objects.filter(email__iexact=invitation.email).exists():
        login_url = reverse("login") + "?" + urlencode({"next": request.path})
        return _page(request, invitation, "login", login_url=login_url)
    form = InvitedAccountForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                user = service.create_invited_account(
                    invitation=invitation, first_name=form.cleaned_data["first_name"],
                    last_name=form.cleaned_data["last_name"], password=form.cleaned_data["password1"],
                )
                member = service.accept_invitation(invitation=invitation, user=user)
        except IntegrityError:
            return _refused(request, _("Un compte existe déjà pour cette adresse : connectez-vous, puis suivez "
                                       "de nouveau le lien."))
        except ValidationError as error:
            return _refused(request, error.messages[0])
        login(request, user, backend="ami.auth_memo.ModelBackend")
        return _welcome(request, member)
    return _page(request, invitation, "signup", form=form)


def _accept(request, invitation, user):
    try:
        member = service.accept_invitation(invitation=invitation, user=user)
    except ValidationError as error:
        return _refused(request, error.messages[0])
    return _welcome(request, member)


def _welcome(request, member):
    messages.success(request, _("Vous faites maintenant partie du jury de « %(call)s ». Lisez et acceptez la charte "
                                "pour accéder aux projets.") % {"call": member.call.title})
    return redirect(reverse("jury:charter", args=[member.call.slug]))
