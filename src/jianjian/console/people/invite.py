"""The invited person's page (public): ``/invite/<token>/`` sets the password once, then signs
them in and sends them where ``/`` sends everyone (their own work)."""

from __future__ import annotations

from django.contrib.auth import login
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache

from jianjian.communities import invitations


@never_cache
def accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitations.open_invitation(token)
    except invitations.InvitationInvalid as exc:
        return render(request, "console/people/invite_invalid.html", {"error": exc}, status=410)
    form = SetPasswordForm(invitation.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitations.accept(token, form.cleaned_data["new_password1"])
        except invitations.InvitationInvalid as exc:
            return render(request, "console/people/invite_invalid.html", {"error": exc}, status=410)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")
    context = {"invitation": invitation, "form": form}
    return render(
        request, "console/people/invite.html", context, status=422 if form.errors else 200
    )


# Included at the site's root by jianjian.urls (the person has no account to sign in with yet).
urlpatterns = [path("invite/<str:token>/", accept, name="invitation")]
