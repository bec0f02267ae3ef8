from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from jianjian import access


def home(request: HttpRequest) -> HttpResponse:
    """``/``: a signed-in person goes to their work; everyone else reads where to sign in."""
    if request.user.is_authenticated:
        target = access.landing_for(request.user)
        if target != reverse("home"):
            return redirect(target)
    return render(request, "web/home.html")
