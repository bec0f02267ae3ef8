"""The resident's pages (phone-sized): sign in with a code, my parcels and QR, proxies,
preferences, reports. Thin: access decides what exists, the services change things."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from jianjian import access, clock
from jianjian.communities.models import Resident
from jianjian.communities.phones import mask_phone
from jianjian.notify.models import ResidentPreference
from jianjian.parcels.errors import InvalidInput
from jianjian.parcels.models import Parcel, ParcelState
from jianjian.parcels.policy import deadline
from jianjian.points.models import CollectionPoint
from jianjian.residents import cases, links, otp, pickup, proxies
from jianjian.residents.forms import (
    CaseForm,
    CodeForm,
    LinkForm,
    PhoneForm,
    PreferencesForm,
    ProxyForm,
)

SESSION_PHONE = "signin_phone"
WAITING = (ParcelState.AT_POINT, ParcelState.ANNOUNCED, ParcelState.MISSING)
HISTORY = (ParcelState.PICKED_UP, ParcelState.RETURNED)


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous visitors go to the code sign-in, and come back afterwards."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('residents:signin')}?{query}")
        return view(request, *args, **kwargs)

    return wrapper


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("residents:home")


# --- sign-in -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def signin(request: HttpRequest) -> HttpResponse:
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            phone = otp.request_code(form.cleaned_data["phone"], _ip(request))
        except otp.SignInError as exc:
            form.add_error("phone", exc.message)
        else:
            request.session[SESSION_PHONE] = phone
            query = urlencode({"next": _next_url(request)})
            return redirect(f"{reverse('residents:signin_code')}?{query}")
    return render(
        request, "residents/signin.html", {"form": form, "next": request.GET.get("next", "")}
    )


@require_http_methods(["GET", "POST"])
def signin_code(request: HttpRequest) -> HttpResponse:
    phone = request.session.get(SESSION_PHONE)
    if not phone:
        return redirect("residents:signin")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = otp.verify_code(phone, form.cleaned_data["code"], _ip(request))
        except otp.SignInError as exc:
            form.add_error("code", exc.message)
        else:
            target = _next_url(request)
            # login() rotates the session key (no fixation); the sign-in then lasts on this device.
            login(request, account.user, backend="django.contrib.auth.backends.ModelBackend")
            request.session.set_expiry(settings.RESIDENT_SESSION_SECONDS)
            return redirect(target)
    context = {"form": form, "masked": mask_phone(phone), "next": request.GET.get("next", "")}
    return render(request, "residents/signin_code.html", context)


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("residents:signin")


# --- my parcels ----------------------------------------------------------------------------


def _deadline(parcel: Any) -> Any:
    return deadline(parcel)


@signed_in
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    residents = list(access.own_residents(user))
    waiting = list(
        access.my_parcels(user)
        .filter(state__in=WAITING)
        .select_related("point__community", "community", "carrier", "slot", "recipient")
        .prefetch_related("point__closures")  # each parcel's deadline asks its point's hours
        .order_by("intake_at", "pk")
    )
    for parcel in waiting:
        parcel.deadline = _deadline(parcel)  # type: ignore[attr-defined]
    at_point_residents = {p.recipient_id for p in waiting if p.state == ParcelState.AT_POINT}
    qrs = [_resident_qr(r) for r in residents if r.pk in at_point_residents]
    qrs += _phone_qrs(waiting)
    # All the parcels the user may collect for others in one query, then sorted by grant: a
    # query per grant made the page slower with every neighbour who trusted this resident.
    proxied = list(access.proxied_parcels(user).select_related("point", "community", "carrier"))
    grants = []
    for grant in access.live_proxy_grants(user):
        parcels = [p for p in proxied if grant.covers(p)]
        if parcels:
            grants.append({"grant": grant, "parcels": parcels, "qr": _proxy_qr(grant)})
    history = list(
        access.my_parcels(user)
        .filter(state__in=HISTORY)
        .select_related("point", "carrier")
        .order_by("-closed_at")[:30]
    )
    context = {
        "residents": residents,
        "waiting": waiting,
        "qrs": qrs,
        "grants": grants,
        "history": history,
        "masked_phone": mask_phone(access.phone_of(user) or ""),
        "can_link": access.phone_communities(user).exists(),
    }
    return render(request, "residents/home.html", context)


def _phone_qrs(waiting: list[Any]) -> list[dict[str, Any]]:
    """One QR per community for the waiting parcels addressed to the phone with no roster row
    (a phone in two communities shows each counter its own)."""
    first: dict[int, Any] = {}
    for parcel in waiting:
        if parcel.recipient_id is None and parcel.state == ParcelState.AT_POINT:
            first.setdefault(parcel.community_id, parcel)
    return [_phone_qr(p.pk, p.community_id) for p in first.values()]


def _phone_qr(parcel_id: int, community_id: int) -> dict[str, Any]:
    return _qr("h", parcel_id, pickup.make_phone_token(parcel_id, community_id))


def _qr(kind: str, pk: int, token: str) -> dict[str, Any]:
    # The token is also on the element (data-qr), for a desk scanner that reads the screen as
    # text; it says no more than the QR itself.
    return {
        "kind": kind,
        "id": pk,
        "token": token,
        "svg": pickup.qr_svg(token),
        "until": pickup.valid_until(),
    }


def _resident_qr(resident: Resident) -> dict[str, Any]:
    return _qr("r", resident.pk, pickup.resident_token(resident))


def _proxy_qr(grant: Any) -> dict[str, Any]:
    return _qr("p", grant.pk, pickup.make_proxy_token(grant))


@signed_in
def qr_fragment(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """A fresh QR (htmx swaps it in before the old one expires)."""
    if kind == "p":
        qr = _proxy_qr(access.live_grant_for(request.user, pk))
    elif kind == "h":
        try:
            parcel = access.phone_parcels(request.user).get(pk=pk)
        except Parcel.DoesNotExist:
            raise Http404 from None
        qr = _phone_qr(parcel.pk, parcel.community_id)
    elif kind != "r":
        raise Http404
    else:
        try:
            resident = access.own_residents(request.user).get(pk=pk)
        except Resident.DoesNotExist:
            raise Http404 from None
        qr = _resident_qr(resident)
    return render(request, "residents/_qr.html", {"qr": qr})


@signed_in
def parcel_detail(request: HttpRequest, pk: int) -> HttpResponse:
    parcel = access.my_parcel_for(request.user, pk)
    events = parcel.events.select_related("point").order_by("seq")  # type: ignore[attr-defined]
    context = {
        "parcel": parcel,
        "deadline": _deadline(parcel),
        "events": events,
        "cases": parcel.cases.order_by("-created_at"),  # type: ignore[attr-defined]
        "waiting": parcel.state in WAITING,
    }
    return render(request, "residents/parcel.html", context)


# --- my flat: a phone without a roster row asks to be linked ---------------------------------


@signed_in
@require_http_methods(["GET", "POST"])
def link_flat(request: HttpRequest) -> HttpResponse:
    user = request.user
    phone = access.phone_of(user)
    communities = list(access.phone_communities(user).order_by("name")[:20])
    form = LinkForm(request.POST or None, communities=communities)
    if request.method == "POST" and phone and form.is_valid():
        community = next(c for c in communities if c.pk == form.cleaned_data["community"])
        try:
            links.ask(phone, community, form.cleaned_data["flat"], form.cleaned_data["name"])
        except InvalidInput as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Sent. The community office will answer."))
            return redirect("residents:link")
    context = {
        "form": form if communities else None,
        "residents": list(access.own_residents(user)),
        "asked": list(
            access.own_link_requests(user).select_related("community").order_by("-pk")[:20]
        ),
    }
    return render(request, "residents/link.html", context)


# --- proxies -------------------------------------------------------------------------------


@signed_in
@require_http_methods(["GET", "POST"])
def proxy_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    residents = list(access.own_residents(user))
    waiting = list(
        access.own_parcels(user)
        .filter(state__in=(ParcelState.AT_POINT, ParcelState.ANNOUNCED))
        .order_by("pk")
    )
    form = ProxyForm(request.POST or None, parcels=waiting)
    if request.method == "POST" and form.is_valid() and residents:
        data = form.cleaned_data
        parcel = next((p for p in waiting if p.pk == data["parcel"]), None)
        resident = next(
            (r for r in residents if parcel is None or r.pk == parcel.recipient_id), residents[0]
        )
        try:
            proxies.grant(
                resident,
                phone=data["phone"],
                name=data["name"],
                parcel=parcel,
                days=None if parcel else data["days"],
            )
        except InvalidInput as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Done. They will get a message and can sign in."))
            return redirect("residents:proxies")
    grants = [
        {"grant": g, "masked": mask_phone(g.phone), "active": g.is_active(clock.now())}
        for g in access.granted_proxies(user).select_related("parcel").order_by("-created_at")
    ]
    context = {"form": form, "grants": grants, "has_resident": bool(residents)}
    return render(request, "residents/proxies.html", context)


@signed_in
@require_POST
def proxy_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    proxies.revoke(access.granted_proxy_for(request.user, pk))
    messages.success(request, _("Revoked. That number can no longer collect for you."))
    return redirect("residents:proxies")


# --- preferences ---------------------------------------------------------------------------


@signed_in
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    # One phone can be the resident of several flats (a family with two flats, a landlord):
    # the form shows the first record's settings and saving applies them to every record, since
    # they are the preferences of the person holding the phone.
    residents = list(access.own_residents(request.user).order_by("pk"))
    if not residents:
        return render(request, "residents/preferences.html", {"form": None})
    resident = residents[0]
    points = list(
        CollectionPoint.objects.filter(community=resident.community, active=True).order_by("code")
    )
    pref = ResidentPreference.objects.filter(resident=resident).first()
    initial = {
        # Without a row the outbox uses the installation's default channel: show that.
        "channels": pref.channel_list() if pref else [settings.NOTIFY_DEFAULT_CHANNEL],
        "email": pref.email if pref else "",
        "language": pref.language if pref else settings.LANGUAGE_CODE,
        "preferred_point": resident.preferred_point_id,
        "locker_consent": resident.locker_consent,
        "quiet_start": resident.quiet_start,
        "quiet_end": resident.quiet_end,
    }
    form = PreferencesForm(request.POST or None, initial=initial, points=points)
    if request.method == "POST" and form.is_valid():
        try:
            _save_preferences(residents, form.cleaned_data)
        except ValidationError as exc:
            # The model's own check (ResidentPreference.clean) has the last word.
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Saved."))
            return redirect("residents:preferences")
    context = {"form": form, "resident": resident, "community": resident.community}
    return render(request, "residents/preferences.html", context)


@transaction.atomic
def _save_preferences(residents: list[Resident], data: dict[str, Any]) -> None:
    """Every record of the person and their notification preferences, all or nothing.

    The preferred point is a point of the first record's community (the form offers those), so
    it is set on the records in that community only.
    """
    community_id = residents[0].community_id
    prefs = {p.resident_id: p for p in ResidentPreference.objects.filter(resident__in=residents)}
    for resident in residents:
        pref = prefs.get(resident.pk) or ResidentPreference(resident=resident)
        pref.channels = list(data["channels"])
        pref.email = data["email"]
        pref.language = data["language"]
        pref.full_clean()
        pref.save()
        fields = ["locker_consent", "quiet_start", "quiet_end"]
        if resident.community_id == community_id:
            resident.preferred_point_id = data["preferred_point"]
            fields.append("preferred_point")
        resident.locker_consent = data["locker_consent"]
        resident.quiet_start = data["quiet_start"]
        resident.quiet_end = data["quiet_end"]
        resident.save(update_fields=fields)


# --- reports -------------------------------------------------------------------------------


@signed_in
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest, parcel_pk: int) -> HttpResponse:
    parcel = access.own_parcel_for(request.user, parcel_pk)
    form = CaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = cases.open_case(
                parcel.recipient,  # type: ignore[arg-type]
                parcel,
                form.cleaned_data["kind"],
                form.cleaned_data["description"],
            )
        except InvalidInput as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Report #%(id)d sent to the community office.") % {"id": case.pk}
            )
            return redirect("residents:case", pk=case.pk)
    return render(request, "residents/case_new.html", {"form": form, "parcel": parcel})


@signed_in
def case_list(request: HttpRequest) -> HttpResponse:
    items = access.resident_cases(request.user).select_related("parcel").order_by("-created_at")
    return render(request, "residents/cases.html", {"cases": items})


@signed_in
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.resident_case_for(request.user, pk)
    return render(request, "residents/case.html", {"case": case, "notes": case.notes.all()})
