from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from jianjian.web.counter.parcels import home_for


def home(request: HttpRequest) -> HttpResponse:
    # A clerk goes straight to their counter (or picks one of their points).
    target = home_for(request.user) if request.user.is_authenticated else None
    if target:
        return redirect(target)
    return render(request, "web/home.html")
