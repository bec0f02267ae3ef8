"""The demo community: 时代花园, as in the newspaper article the product comes from.

Two estate-agency shop counters that take 50 parcels a day each, a gate shelf, a 40-compartment
locker bank, 12 buildings, about 300 residents, couriers of four carriers, and a day of parcels
in every state — all written through the lifecycle services, so the demo passes `jianjian check`.
Also what a running community has: disinfection tasks at every point, an owners' committee
member and robot, a couriers' robot (both writing to the notification log), and a few parcels
for a phone that is not on the roster (it signs in with a code all the same).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from jianjian import clock
from jianjian.communities.models import Building, Community, Flat, Membership, Resident, StaffRole
from jianjian.couriers.models import Carrier, Courier
from jianjian.notify.channels.robots import LOG_WEBHOOK
from jianjian.notify.models import GroupRobot, RobotKind, RobotPurpose
from jianjian.parcels import services
from jianjian.parcels.matching import RecipientInfo
from jianjian.parcels.models import Method, Parcel
from jianjian.points.disinfection import setup_task
from jianjian.points.models import CollectionPoint, PointKind, Slot, SlotSize, uniform_hours

SLUG = "shidai-garden"
PASSWORD = "jianjian-demo"
# A phone with parcels waiting but no roster row: try signing in with it at /me/signin/.
UNROSTERED_PHONE = "+8613912340000"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌宇浩凯婷雪琳晨欣怡子涵"

# Tracking-number makers per carrier, in the formats the recognition rules know.
FORMATS = {
    "sf": lambda r: f"SF{r.randrange(10**12, 10**13)}",
    "zto": lambda r: f"7{r.choice('3458')}{r.randrange(10**11, 10**12)}",
    "yto": lambda r: f"YT{r.randrange(10**12, 10**13)}",
    "jd": lambda r: f"JDVA{r.randrange(10**10, 10**11)}",
}


@dataclass
class DemoLogin:
    username: str
    role: str


# Who signs in to the demo, and what they find (printed by `jianjian demo`).
LOGINS = [
    DemoLogin("admin", "superuser: everything, and the Django admin"),
    DemoLogin("juwei", "community admin (居委会): dashboard, console"),
    DemoLogin("yeweihui", "committee member (业委会): reports"),
    DemoLogin("clerk_a", "clerk of point A: its counter"),
    DemoLogin("clerk_b", "clerk of point B: its counter"),
    DemoLogin("clerk_gate", "clerk of the gate shelf and the locker: point picker"),
    DemoLogin("courier_sf", "courier (SF Express): today's drop plan"),
    DemoLogin("courier_zto", "courier (ZTO): today's drop plan"),
    DemoLogin("courier_yto", "courier (YTO): today's drop plan"),
    DemoLogin("courier_jd", "courier (JD): today's drop plan"),
]


def _name(r: random.Random) -> str:
    return r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2))))


def _phone(r: random.Random, used: set[str]) -> str:
    while True:
        phone = f"+86{r.choice(['138', '139', '136', '158', '186', '177', '150'])}{r.randrange(10**7, 10**8)}"
        if phone not in used:
            used.add(phone)
            return phone


def _user(username: str, *, superuser: bool = False, staff: bool = False):  # type: ignore[no-untyped-def]
    User = get_user_model()
    if superuser:
        return User.objects.create_superuser(username, password=PASSWORD)
    return User.objects.create_user(username, password=PASSWORD, is_staff=staff)


def _points(community: Community, buildings: list[Building]) -> list[CollectionPoint]:
    specs = [
        ("A", "我爱我家代收点", PointKind.COUNTER, "我爱我家 时代花园店", 50, buildings[1]),
        ("B", "链家代收点", PointKind.COUNTER, "链家 时代花园店", 50, buildings[8]),
        ("G", "北门货架", PointKind.SHELF, "", 80, buildings[0]),
        ("L", "南门快递柜", PointKind.LOCKER, "", 40, buildings[11]),  # one per compartment
    ]
    points = []
    for code, name, kind, shop, capacity, building in specs:
        point = CollectionPoint.objects.create(
            community=community,
            code=code,
            name=name,
            kind=kind,
            host_shop=shop,
            daily_capacity=capacity,
            building=building,
            hours=uniform_hours(
                dt.time(7, 0) if kind != PointKind.COUNTER else dt.time(9, 0),
                dt.time(22, 0) if kind != PointKind.COUNTER else dt.time(20, 30),
            ),
        )
        if kind == PointKind.LOCKER:
            # 8 columns × 5 rows = 40 compartments: small at the top, large at the bottom.
            sizes = {1: SlotSize.S, 2: SlotSize.S, 3: SlotSize.M, 4: SlotSize.M, 5: SlotSize.L}
            Slot.objects.bulk_create(
                Slot(
                    community=community,
                    point=point,
                    shelf=col,
                    tier=row,
                    is_compartment=True,
                    size=sizes[row],
                )
                for col in range(1, 9)
                for row in range(1, 6)
            )
        else:
            Slot.objects.bulk_create(
                Slot(community=community, point=point, shelf=shelf, tier=tier)
                for shelf in range(1, 5)
                for tier in range(1, 4)
            )
        points.append(point)
    return points


@transaction.atomic
def load_demo(seed: int = 2020) -> list[DemoLogin]:
    r = random.Random(seed)
    community = Community.objects.create(name="时代花园", slug=SLUG)
    buildings = [
        Building.objects.create(community=community, number=str(n), name=f"{n}号楼")
        for n in range(1, 13)
    ]
    flats = [
        Flat.objects.create(
            community=community, building=b, entrance=str(e), number=f"{floor}0{door}"
        )
        for b in buildings
        for e in (1, 2)
        for floor in range(1, 7)
        for door in (1, 2)
    ]
    points = _points(community, buildings)
    _disinfection(points)
    _robots(community)
    used: set[str] = {UNROSTERED_PHONE}
    residents = [
        Resident.objects.create(
            community=community,
            flat=flats[i % len(flats)],
            name=_name(r),
            phone=_phone(r, used),
            preferred_point=points[0] if i % 3 == 0 else (points[1] if i % 3 == 1 else None),
            locker_consent=i % 7 != 0,
        )
        for i in range(300)
    ]

    _user("admin", superuser=True)
    staff = [
        ("juwei", StaffRole.ADMIN, []),
        ("yeweihui", StaffRole.COMMITTEE, []),
        ("clerk_a", StaffRole.CLERK, [points[0]]),
        ("clerk_b", StaffRole.CLERK, [points[1]]),
        ("clerk_gate", StaffRole.CLERK, [points[2], points[3]]),
    ]
    for username, role, its_points in staff:
        membership = Membership.objects.create(user=_user(username), community=community, role=role)
        membership.points.set(its_points)

    couriers = {}
    for code in FORMATS:
        carrier = Carrier.objects.get(code=code)
        username = f"courier_{code}"
        courier = Courier.objects.create(
            carrier=carrier, name=_name(r), phone=_phone(r, used), user=_user(username, staff=False)
        )
        courier.communities.add(community)
        couriers[code] = courier

    _parcels(r, community, points, residents, couriers)
    _unrostered_parcels(r, community, points, couriers)
    return LOGINS


def _disinfection(points: list[CollectionPoint]) -> None:
    for point in points:
        if point.kind == PointKind.LOCKER:
            setup_task(point, "快递柜触摸屏", interval_hours=4, default_agent="75%酒精")
            setup_task(point, "柜门把手", interval_hours=8, default_agent="75%酒精")
        else:
            setup_task(point, "货架与台面", interval_hours=24, default_agent="含氯消毒液")


def _robots(community: Community) -> None:
    """The committee's and the couriers' group robots; their messages go to the log file."""
    for name, purpose in (
        ("业委会群", RobotPurpose.COMMITTEE),
        ("快递员群", RobotPurpose.COURIERS),
    ):
        GroupRobot.objects.create(
            community=community,
            name=name,
            kind=RobotKind.WECOM,
            webhook_url=LOG_WEBHOOK,
            purpose=purpose,
        )


def _unrostered_parcels(
    r: random.Random,
    community: Community,
    points: list[CollectionPoint],
    couriers: dict[str, Courier],
) -> None:
    """Two parcels waiting at counter A and one on its way, for a phone not on the roster."""
    used: set[str] = set(
        Parcel.objects.filter(community=community).values_list("tracking_number", flat=True)
    )
    clerk = services.Actor.system("demo clerk")
    for code in ("sf", "jd"):
        services.intake(
            points[0],
            _new_number(r, code, used),
            actor=clerk,
            method=Method.SCAN,
            phone=UNROSTERED_PHONE,
            courier=couriers[code],
        )
    services.announce(
        community,
        _new_number(r, "zto", used),
        actor=services.Actor.system("zto manifest"),
        method=Method.MANIFEST,
        carrier_code="zto",
        courier=couriers["zto"],
        recipient=RecipientInfo(phone=UNROSTERED_PHONE, last4=UNROSTERED_PHONE[-4:]),
        planned_point=points[0],
    )


def roster_phone_to_try(community: Community) -> str | None:
    """A roster resident's phone with a parcel waiting at a point (what the demo suggests)."""
    from jianjian.parcels.models import ParcelState

    return (
        Parcel.objects.filter(
            community=community, state=ParcelState.AT_POINT, recipient__isnull=False
        )
        .order_by("pk")
        .values_list("recipient__phone", flat=True)
        .first()
    )


def _new_number(r: random.Random, code: str, used: set[str]) -> str:
    while True:
        number = FORMATS[code](r)
        if number not in used:
            used.add(number)
            return number


def _parcels(
    r: random.Random,
    community: Community,
    points: list[CollectionPoint],
    residents: list[Resident],
    couriers: dict[str, Courier],
) -> None:
    """Eight days of history ending now, through the services at back-dated times."""
    used: set[str] = set()
    now = timezone.now().replace(second=0, microsecond=0)
    clerk = services.Actor.system("demo clerk")
    shelf_points = [p for p in points if p.kind != PointKind.LOCKER]
    for days_ago in range(8, -1, -1):
        day = now - dt.timedelta(days=days_ago)
        count = 6 if days_ago > 1 else 30
        for i in range(count):
            code = r.choice(list(FORMATS))
            resident = r.choice(residents)
            at = day.replace(hour=9) + dt.timedelta(minutes=13 * i)
            if at > now:
                at = now - dt.timedelta(minutes=count - i)
            point = r.choice(shelf_points if not resident.locker_consent else points)
            with clock.at(at):
                result = services.intake(
                    point,
                    _new_number(r, code, used),
                    actor=clerk,
                    method=Method.SCAN,
                    phone=resident.phone,
                    courier=couriers[code],
                    size=r.choice([SlotSize.S, SlotSize.M, SlotSize.M, SlotSize.L]),
                )
            _after(r, result.parcel, at, now, days_ago, couriers)
    # Today's pre-advice not yet delivered.
    for _i in range(20):
        code = r.choice(list(FORMATS))
        resident = r.choice(residents)
        services.announce(
            community,
            _new_number(r, code, used),
            actor=services.Actor.system(f"{code} manifest"),
            method=Method.MANIFEST,
            carrier_code=code,
            courier=couriers[code],
            recipient=RecipientInfo(resident=resident),
            planned_point=resident.preferred_point or points[0],
        )
    # Three pre-advices end without reaching a point: one cancelled, one left with a neighbour,
    # one that never came (expired, as the worker's daily round ends it).
    gone, next_door, never = Parcel.objects.filter(community=community, state="announced")[:3]
    services.cancel_announced(gone, actor=services.Actor.system("demo"), reason="寄件人撤回")
    services.delivered_elsewhere(next_door, actor=clerk, place="neighbour", holder="邻居 3-2-502")
    services.expire_announced(never, actor=services.Actor.system("worker"), reason="age")


def _after(
    r: random.Random,
    parcel: Parcel,
    at: dt.datetime,
    now: dt.datetime,
    days_ago: int,
    couriers: dict[str, Courier],
) -> None:
    """Give some of the parcels a later life: collected, returned when dead, or gone missing."""
    clerk = services.Actor.system("demo clerk")
    point = parcel.point
    assert point is not None
    roll = r.random()
    later = min(at + dt.timedelta(hours=r.randrange(2, 40)), now)
    if days_ago >= 7 and roll < 0.5:
        with clock.at(now - dt.timedelta(hours=2)):
            services.return_to_courier(
                parcel, courier=couriers[parcel.carrier.code], actor=clerk, reason="dead"
            )
    elif roll < 0.55 and later < now:
        with clock.at(later):
            services.hand_over(point, [parcel], actor=clerk, method=Method.CODE)
    elif roll > 0.985:
        with clock.at(later):
            services.mark_missing(parcel, actor=clerk, note="not on the shelf at stocktake")
