"""Rate limits of the endpoints anyone can make send mail or create rows (issue 8), and the 429 page.

django-ratelimit counts POSTs in the default cache, per fixed window; over the limit it raises
Ratelimited, which its middleware turns into `rate_limited` below (settings.RATELIMIT_VIEW) instead
of the 403 page. GETs are never counted: reading a form costs nothing.
"""

from django.shortcuts import render
from django_ratelimit.decorators import ratelimit

# Rates: "count/period" (s, m, h, d; "15m" is fifteen minutes).
SIGNUP = "5/15m"  # per IP address: account creation sends a verification email
PASSWORD_RESET = "5/15m"  # per IP address: each request may send an email
INVITATION_ACCEPT = "10/15m"  # per IP address: accepting a jury invitation may create an account
JURY_INVITATION = "60/h"  # per staff member: invitations sent, resent or checked for conflicts
SUBMIT = "10/m"  # per user: each submission renders a receipt PDF and sends emails


def per_ip(group, rate):
    return ratelimit(group=group, key="ip", rate=rate, method="POST")


def per_user(group, rate):
    return ratelimit(group=group, key="user_or_ip", rate=rate, method="POST")


def rate_limited(request, exception):
    """HTTP 429 in French (the middleware calls it for any Ratelimited exception)."""
    return render(request, "429.html", status=429)
