"""Role × route × object: every page and API operation, asked by every kind of caller, answers
exactly what docs/security.md documents.

One community ("A") holds one of everything: a parcel waiting at counter A for resident 0
(carrier SF), a live proxy grant for it, an SF manifest, a complaint case, a stocktake, a missing
case, a disinfection task. The callers: anonymous, the resident, the proxy, the clerk of counter
A, the SF courier, a committee member, the community admin, the SF integration token, a revoked
token, and the admin of another community. Pages see only the session; the API sees the token
(or, without one, the session). Every request runs in a savepoint that is rolled back, so each
answer is about the same unchanged world. 404 means "does not exist for you" (DESIGN: never 403
for someone else's object); 403 is a role that may not do that kind of thing at all; 302 is the
way to the sign-in page.

The test collects every cell that differs and fails with the whole list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client

from jianjian.communities import roster
from jianjian.communities.models import Membership, StaffRole
from jianjian.couriers.models import Carrier, Manifest
from jianjian.couriers.tokens import create_token
from jianjian.notify.models import GroupRobot, Notification
from jianjian.parcels import services
from jianjian.parcels.models import Parcel
from jianjian.points.models import DisinfectionTask, PointClosure
from jianjian.residents import cases, proxies
from jianjian.residents.models import CaseKind, LinkRequest, PhoneAccount
from jianjian.stocktake import services as stocktake
from tests.console.people_files import csv_bytes
from tests.factories import make_world, tracking

pytestmark = pytest.mark.django_db

CALLERS = (
    "anonymous",
    "resident",
    "proxy",
    "clerk",
    "courier",
    "committee",
    "admin",
    "integration",
    "revoked",
    "other_admin",
)
SESSIONS = ("resident", "proxy", "clerk", "courier", "committee", "admin", "other_admin")
TOKENS = ("integration", "revoked")
STAFF = ("clerk", "admin")  # who works counter A
READERS = ("committee", "admin")  # who reads community A's reports
NOBODY_ELSE = 404
WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"
# Pages do not read tokens: a token's holder is anonymous there.
SIGN_IN = {"anonymous": 302, "integration": 302, "revoked": 302}


def expect(default: int, **cells: int) -> dict[str, int]:
    table = dict.fromkeys(CALLERS, default)
    table.update(cells)
    return table


def page(allowed: tuple[str, ...], ok: int = 200, **more: int) -> dict[str, int]:
    """A signed-in page: ``allowed`` get ``ok``, other sessions 404, strangers the sign-in."""
    return expect(NOBODY_ELSE, **SIGN_IN, **dict.fromkeys(allowed, ok), **more)


API_SIGNED_IN = (
    "resident",
    "proxy",
    "clerk",
    "courier",
    "committee",
    "admin",
    "integration",
    "other_admin",
)


def api(allowed: dict[str, int], default: int = NOBODY_ELSE) -> dict[str, int]:
    """An API operation: 401 for no or a revoked token, ``allowed`` cells, else ``default``."""
    return expect(default, anonymous=401, revoked=401, **allowed)


def api_all(status: int = 200) -> dict[str, int]:
    return api(dict.fromkeys(API_SIGNED_IN, status))


# Writes over the API: residents, proxies and the committee only read (403); couriers and
# carrier systems do not work counters (403); another community's admin does not see the point
# or parcel (404).
COUNTER_WRITE = api(
    {"clerk": 200, "admin": 200, "other_admin": 404}
    | dict.fromkeys(("resident", "proxy", "committee", "courier", "integration"), 403)
)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # formatted with the scene's ids
    expected: dict[str, int]
    body: dict[str, Any] | None = None
    api: bool = False


ROUTES = [
    # --- the open API ------------------------------------------------------------------------
    Route("get", "/api/v1/parcels", api_all(), api=True),
    Route(
        "get",
        "/api/v1/parcels/{parcel}",
        api(
            dict.fromkeys(
                ("resident", "proxy", "clerk", "courier", "committee", "admin", "integration"), 200
            )
        ),
        api=True,
    ),
    Route("get", "/api/v1/parcels/{other_parcel}", api({"other_admin": 200}), api=True),
    Route("get", "/api/v1/points", api_all(), api=True),
    Route("get", "/api/v1/manifests", api_all(), api=True),
    Route(
        "get",
        "/api/v1/manifests/{manifest}",
        api({"courier": 200, "integration": 200, "admin": 200}),
        api=True,
    ),
    Route(
        "get",
        "/api/v1/drop-plans/{slug}",
        api({"courier": 200, "integration": 200, "admin": 200}),
        api=True,
    ),
    Route("get", "/api/v1/returns", api_all(), api=True),
    Route("get", "/api/v1/couriers", api_all(), api=True),
    Route(
        "post",
        "/api/v1/parcels/intake",
        COUNTER_WRITE,
        {"point_id": "{point}", "tracking_number": "{new_number}", "phone": "13812345678"},
        api=True,
    ),
    Route(
        "post",
        "/api/v1/parcels/intake/batch",
        COUNTER_WRITE,
        {"point_id": "{point}", "scans": [{"tracking_number": "{new_number}"}]},
        api=True,
    ),
    Route(
        "post",
        "/api/v1/parcels/{parcel}/hand-over",
        COUNTER_WRITE | {"resident": 403},
        {"method": "code"},
        api=True,
    ),
    Route(
        "post",
        "/api/v1/parcels/{parcel}/return",
        COUNTER_WRITE,
        {"courier_id": "{courier}"},
        api=True,
    ),
    Route(
        "post",
        "/api/v1/manifests",
        api(
            {"courier": 201, "integration": 201, "admin": 201, "other_admin": 404}
            | dict.fromkeys(("resident", "proxy", "committee", "clerk"), 403)
        ),
        {
            "community": "{slug}",
            "parcels": [{"tracking_number": "{new_number}", "phone": "13812345678"}],
        },
        api=True,
    ),
    Route(
        "get",
        "/api/v1/points/{point}/lookup?tail=5678",
        api({"clerk": 200, "admin": 200}),  # a point's clerks and admins; 404 for anyone else
        api=True,
    ),
    Route(
        "post",
        "/api/v1/parcels/{announced}/cancel",
        api(
            {"courier": 200, "integration": 200, "admin": 200}
            | dict.fromkeys(("resident", "proxy", "committee", "clerk"), 403)
        ),
        {"reason": "not coming"},
        api=True,
    ),
    Route(
        "post",
        "/api/v1/parcels/{announced}/delivered-elsewhere",
        api(
            {"courier": 200, "integration": 200, "admin": 200}
            | dict.fromkeys(("resident", "proxy", "committee", "clerk"), 403)
        ),
        {"place": "door"},
        api=True,
    ),
    Route("get", "/api/v1/openapi.json", expect(200), api=True),
    Route("get", "/api/v1/docs", expect(200), api=True),
    # --- public pages ------------------------------------------------------------------------
    Route("get", "/healthz", expect(200)),
    Route("get", "/readyz", expect(200)),  # status for anyone; details: see test_findings.py
    Route("get", "/metrics", expect(403)),
    Route("get", "/login/", expect(200, **dict.fromkeys(SESSIONS, 302))),
    Route("get", "/me/signin/", expect(200)),
    # --- the counter (clerks of the point, and the community's admins) ------------------------
    Route("get", "/counter/", page((*STAFF, "other_admin"))),  # the chooser of one's own points
    Route("get", "/counter/{point}/", page(STAFF)),
    Route("get", "/counter/{point}/pickup/", page(STAFF)),
    Route("get", "/counter/{point}/returns/", page(STAFF)),
    Route("get", "/counter/{point}/parcels/", page(STAFF)),
    Route("get", "/counter/{point}/parcels/{parcel}/", page(STAFF)),
    Route("get", "/counter/{point}/parcels/{parcel}/label.pdf", page(STAFF)),
    Route("get", "/counter/{point}/labels.pdf", page(STAFF)),
    Route("get", "/counter/{point2}/", page(("admin",))),  # counter B: not the clerk's
    Route("get", "/counter/{other_point}/", page(("other_admin",))),
    Route("post", "/counter/{point}/scan/", page(STAFF), {}),
    Route("get", "/counter/{point}/suggest/", page(STAFF)),
    Route("post", "/counter/{point}/pickup/lookup/", page(STAFF), {"q": "nothing"}),
    Route("post", "/counter/{point}/pickup/hand-over/", page(STAFF), {}),
    Route("post", "/counter/{point}/returns/scan/", page(STAFF), {}),
    Route("post", "/counter/{point}/labels/clear/", page(STAFF, ok=302)),
    # --- stocktake, missing parcels, disinfection ----------------------------------------------
    Route("get", "/stocktake/point/{point}/", page(STAFF)),
    Route("get", "/stocktake/{stocktake}/", page(STAFF)),
    Route("get", "/stocktake/{stocktake}/report/", page(STAFF)),
    Route("get", "/missing/", page(SESSIONS)),  # a list of what the user may see (maybe none)
    Route("get", "/missing/{missing}/", page(("clerk", "committee", "admin"))),
    Route("get", "/disinfection/point/{point}/", page(STAFF)),
    Route("get", "/disinfection/point/{point}/2026/3/", page(STAFF)),
    Route("post", "/disinfection/task/{task}/done/", page(STAFF, ok=302), {}),
    # --- reports and the console ------------------------------------------------------------
    Route(
        "get",
        "/reports/",
        page(("clerk", "committee", "admin", "other_admin", "resident", "proxy", "courier")),
    ),
    Route("get", "/reports/{slug}/", page(READERS)),
    Route("get", "/reports/{slug}/export/parcels.csv", page(READERS)),
    Route("get", "/reports/{slug}/export/events.xlsx", page(READERS)),
    Route("get", "/console/", page(("admin", "other_admin"), ok=302)),  # to their one console
    Route("get", "/console/{slug}/", page(("admin",))),
    Route("get", "/console/{slug}/audit/", page(("admin",))),
    # The community admin's console: only community A's admins; every other session 404,
    # including another community's admin (never a hint that the community exists).
    *(
        Route("get", f"/console/{{slug}}/{section}", page(("admin",)))
        for section in (
            "community/",
            "flats/",
            "flats/{flat}/",
            "buildings/{building}/",
            "residents/",
            "residents/new/",
            "residents/{resident}/",
            "roster/",
            "roster/{upload}/",
            "staff/",
            "couriers/",
            "points/",
            "points/add/",
            "points/{point}/",
            "points/{point}/closures/",
            "points/{point}/slots/",
            "points/{point}/distances/",
            "disinfection/",
            "disinfection/add/",
            "disinfection/{task}/",
            "robots/",
            "robots/add/",
            "robots/{robot}/",
            "robots/{robot}/messages/{message}/",
            "tokens/",
            "tokens/add/",
            "links/",
        )
    ),
    Route("get", "/console/{slug}/points/{other_point}/", page(())),  # B's point via A's console
    Route("get", "/console/{other_slug}/points/{point}/", page(())),  # A's point via B's console
    Route("get", "/console/{other_slug}/points/", page(("other_admin",))),
    # Forms with an empty (invalid) body: the admin sees the form again with its errors.
    Route("post", "/console/{slug}/residents/new/", page(("admin",)), {}),
    Route("post", "/console/{slug}/points/add/", page(("admin",)), {}),
    Route("post", "/console/{slug}/points/{point}/", page(("admin",)), {}),
    Route("post", "/console/{slug}/disinfection/add/", page(("admin",)), {}),
    Route("post", "/console/{slug}/disinfection/{task}/", page(("admin",)), {}),
    Route("post", "/console/{slug}/robots/add/", page(("admin",)), {}),
    Route("post", "/console/{slug}/tokens/add/", page(("admin",)), {}),
    # Actions: the admin is sent back to the list.
    Route("post", "/console/{slug}/residents/{resident}/active/", page(("admin",), ok=302), {}),
    Route("post", "/console/{slug}/disinfection/{task}/deactivate/", page(("admin",), ok=302), {}),
    Route("post", "/console/{slug}/staff/{membership}/deactivate/", page(("admin",), ok=302), {}),
    Route("post", "/console/{slug}/couriers/{courier}/deactivate/", page(("admin",), ok=302), {}),
    # A new invitation link: the page again, with the link to hand over.
    Route("post", "/console/{slug}/staff/{membership}/link/", page(("admin",)), {}),
    Route("post", "/console/{slug}/couriers/{courier}/link/", page(("admin",)), {}),
    Route(
        "post", "/console/{slug}/points/{point}/closures/{closure}/end/", page(("admin",), ok=302)
    ),
    Route("post", "/console/{slug}/robots/{robot}/deactivate/", page(("admin",), ok=302), {}),
    Route("post", "/console/{slug}/robots/{robot}/test/", page(("admin",), ok=302), {}),
    Route("post", "/console/{slug}/tokens/{token}/revoke/", page(("admin",), ok=302), {}),
    Route("post", "/console/{slug}/links/{link}/refuse/", page(("admin",), ok=302), {}),
    # An invitation link is its own key: unknown or used, it is gone for everyone.
    Route("get", "/invite/not-a-token/", expect(410)),
    Route("get", "/cases/", page(("admin", "other_admin"))),
    Route("get", "/cases/{case}/", page(("admin",))),
    # --- the courier's pages ------------------------------------------------------------------
    Route("get", "/courier/", page(("courier",))),
    Route("get", "/courier/manifest/", page(("courier",))),
    Route("get", "/courier/plan/{slug}.csv", page(("courier",))),
    Route("get", "/courier/plan/{other_slug}.csv", page(())),
    # Ending a pre-advice: the courier's carrier's parcels in its communities; one already taken
    # in is refused with a message (409); another community's parcel is not found.
    Route("get", "/courier/parcel/{announced}/end/", page(("courier",))),
    Route(
        "post", "/courier/parcel/{announced}/end/", page(("courier",), ok=302), {"outcome": "door"}
    ),
    Route("post", "/courier/parcel/{parcel}/end/", page(("courier",), ok=409), {"outcome": "door"}),
    Route("get", "/courier/parcel/{other_parcel}/end/", page(())),
    # --- the resident's pages (signed in with a one-time code) --------------------------------
    # Lists of the signed-in person's own things: every session gets its own (maybe empty) list.
    Route("get", "/me/", page(SESSIONS)),
    Route("get", "/me/parcels/{parcel}/", page(("resident",))),
    Route("get", "/me/parcels/{parcel}/report/", page(("resident",))),
    Route("get", "/me/proxies/", page(SESSIONS)),
    Route("post", "/me/proxies/{grant}/revoke/", page(("resident",), ok=302)),
    Route("get", "/me/preferences/", page(SESSIONS)),
    Route("get", "/me/flat/", page(SESSIONS)),
    Route("get", "/me/reports/", page(SESSIONS)),
    Route("get", "/me/reports/{case}/", page(("resident",))),
    Route("get", "/me/qr/p/{grant}/", page(("proxy",))),  # the proxy's pickup QR
    # --- the Django admin: superusers only ------------------------------------------------------
    Route("get", "/admin/", expect(302)),
]


def _user(name: str):  # type: ignore[no-untyped-def]
    return get_user_model().objects.create_user(name)


@pytest.fixture
def scene(time_machine, settings) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    settings.READY_REQUIRE_WORKER = False  # no worker runs in tests: /readyz is "ready"
    time_machine.move_to(dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC))
    world, other = make_world(), make_world()
    c = world.community
    users = {
        name: _user(name)
        for name in ("clerk", "courier", "committee", "admin", "resident", "proxy", "other_admin")
    }
    Membership.objects.create(user=users["clerk"], community=c, role=StaffRole.CLERK).points.add(
        world.counter
    )
    Membership.objects.create(user=users["committee"], community=c, role=StaffRole.COMMITTEE)
    Membership.objects.create(user=users["admin"], community=c, role=StaffRole.ADMIN)
    Membership.objects.create(
        user=users["other_admin"], community=other.community, role=StaffRole.ADMIN
    )
    world.sf_courier.user = users["courier"]
    world.sf_courier.save()
    world.sf_courier.communities.add(c)
    resident = world.residents[0]
    PhoneAccount.objects.create(user=users["resident"], phone=resident.phone)
    PhoneAccount.objects.create(user=users["proxy"], phone="+8613700001234")
    parcel = services.intake(
        world.counter, tracking("sf"), actor=world.clerk, phone=resident.phone
    ).parcel
    # (not to the same phone as resident 0: a phone sees its parcels in every community)
    other_parcel = services.intake(
        other.counter, tracking("sf"), actor=other.clerk, phone="13600000000"
    ).parcel
    grant = proxies.grant(resident, phone="13700001234", days=3)
    case = cases.open_case(resident, parcel, CaseKind.values[0], "where is it")
    actor = services.Actor.of(users["courier"])
    row = {"tracking_number": tracking("sf"), "phone": resident.phone}
    from jianjian.couriers import manifests

    manifest = manifests.import_rows(
        c, [(1, row)], actor=actor, source="json", courier=world.sf_courier
    ).manifest
    assert isinstance(manifest, Manifest)
    take = stocktake.start(world.counter, actor=services.Actor.of(users["clerk"]))
    missing_parcel = services.intake(
        world.counter, tracking("sf"), actor=world.clerk, phone=world.residents[1].phone
    ).parcel
    missing = _missing_case(take, missing_parcel, users["clerk"])
    task = DisinfectionTask.objects.create(
        community=c, point=world.counter, name="screen", interval_hours=4
    )
    closure = PointClosure.objects.create(
        community=c, point=world.counter, starts_on="2099-01-01", ends_on="2099-01-02", reason="x"
    )
    robot = GroupRobot.objects.create(
        community=c, name="group", kind="wecom", webhook_url=WECOM, purpose="couriers"
    )
    message = Notification.objects.create(
        community=c,
        robot=robot,
        dedup_key=f"t:{robot.pk}",
        cause="robot_test",
        channel="wecom",
        address="group",
        body="hi",
    )
    upload = roster.read_upload(
        c, "r.csv", csv_bytes([("1-1-101", "13700001111", "x", "")]), users["admin"]
    )
    link = LinkRequest.objects.create(
        community=c,
        phone="+8613700009999",
        flat_code="3-2-502",
        name="x",
        created_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    )
    token, integration = create_token(
        "sf-system", role="integration", carrier=Carrier.objects.get(code="sf"), communities=[c]
    )
    revoked_token, revoked = create_token("old", role="admin", user=users["admin"])
    revoked_token.active = False
    revoked_token.save()
    return {
        "users": users,
        "tokens": {"integration": integration, "revoked": revoked},
        "ids": {
            "parcel": parcel.pk,
            "other_parcel": other_parcel.pk,
            "point": world.counter.pk,
            "point2": world.counter2.pk,
            "other_point": other.counter.pk,
            "slug": c.slug,
            "other_slug": other.community.slug,
            "manifest": manifest.pk,
            "courier": world.sf_courier.pk,
            "case": case.pk,
            "grant": grant.pk,
            "stocktake": take.pk,
            "missing": missing.pk,
            "task": task.pk,
            "flat": world.flats[0].pk,
            "building": world.flats[0].building_id,
            "resident": resident.pk,
            "membership": Membership.objects.get(user=users["clerk"]).pk,
            "announced": Parcel.objects.get(tracking_number=row["tracking_number"]).pk,
            "closure": closure.pk,
            "robot": robot.pk,
            "message": message.pk,
            "token": token.pk,
            "upload": upload.pk,
            "link": link.pk,
            "new_number": tracking("sf"),
        },
    }


def _missing_case(take, parcel, clerk):  # type: ignore[no-untyped-def]
    """Finish the stocktake without scanning ``parcel``: it becomes a missing case."""
    from jianjian.stocktake.models import MissingCase

    actor = services.Actor.of(clerk)
    for line in stocktake.overview(take).missing:
        if line.parcel and line.parcel.pk == parcel.pk:
            stocktake.resolve(take, line.number, "mark_missing", actor=actor)
    return MissingCase.objects.get(parcel=parcel)


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str):
        text = value.format(**ids)
        return int(text) if value.startswith("{") and text.isdigit() else text
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _client(scene: dict[str, Any], caller: str) -> tuple[Client, dict[str, str]]:
    client = Client()
    if caller in SESSIONS:
        client.force_login(scene["users"][caller])
    headers = {}
    if caller in TOKENS:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {scene['tokens'][caller]}"
    return client, headers


def _ask(scene: dict[str, Any], route: Route, caller: str) -> int:
    client, headers = _client(scene, caller)
    path = route.path.format(**scene["ids"])
    with transaction.atomic():
        if route.method == "get":
            response = client.get(path, **headers)
        elif route.api:
            body = _fill(route.body or {}, scene["ids"])
            response = client.post(path, body, content_type="application/json", **headers)
        else:
            response = client.post(path, _fill(route.body or {}, scene["ids"]), **headers)
        transaction.set_rollback(True)
    return response.status_code


def test_every_route_answers_every_caller_as_documented(scene):
    wrong = []
    for route in ROUTES:
        for caller in CALLERS:
            got = _ask(scene, route, caller)
            if got != route.expected[caller]:
                wrong.append(
                    f"{route.method.upper()} {route.path} as {caller}: "
                    f"{got}, documented {route.expected[caller]}"
                )
    if wrong:
        pytest.fail("\n".join(wrong), pytrace=False)


def test_the_table_covers_every_route_of_the_product():
    """A new page or operation must be added to the table (and to docs/security.md)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, prefix=""):  # type: ignore[no-untyped-def]
        for p in patterns:
            if isinstance(p, URLResolver):
                if str(p.pattern) == "admin/":
                    yield "admin/"
                    continue
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern)

    def shape(path: str) -> str:
        import re

        path = path.split("?")[0]  # a query string is not part of the route
        return re.sub(r"<[^>]+>|\{[^}]+\}|\d+", "X", path.strip("/")).removesuffix(".csv")

    covered = {shape(r.path) for r in ROUTES} | {shape(path) for path in UNTESTED}
    missing = sorted({shape(p) for p in walk(get_resolver().url_patterns)} - covered)
    assert missing == []


# Routes left out of the walk, and why (each is covered by its own tests).
UNTESTED = {
    "": "the landing page redirects by role (tests/web/test_home*.py)",
    "i18n/setlang": "Django's language switch, public",
    "api/v1": "ninja's API root",
    "me/signin/code": "the one-time code form (throttled; tests/residents/test_otp.py)",
    "me/signout": "signing out",
    "logout": "signing out",
    "me/qr/X/X": "covered as /me/qr/p/<id>/",
    "stocktake/X/scan": "stocktake actions (tests/stocktake)",
    "stocktake/X/resolve": "stocktake actions (tests/stocktake)",
    "stocktake/X/X": "stocktake pause/resume/finish (tests/stocktake)",
    "disinfection/photo/X": "a logged photo (tests/points)",
    "ops/drill/intake": "fault drill, off unless JIANJIAN_DRILL_TOKEN (tests/ops)",
    "ops/drill/pickup": "fault drill",
    "ops/drill/return": "fault drill",
    "reports/X/export/X.X": "covered as parcels.csv and events.xlsx",
    "console/X/links/X/X": "covered as /console/<slug>/links/<id>/refuse/",
    "invite/X": "covered as /invite/not-a-token/",
}
