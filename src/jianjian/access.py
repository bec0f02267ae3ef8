"""Who may see and do what: every permission lookup of the product lives in this module.

The rule of the house: what a user may not see does not exist for them — lookups answer 404,
never 403, so ids cannot be probed. Views, the API and the CLI ask here and nowhere else.

Roles (DESIGN.md §2, named once in :mod:`jianjian.roles`):
- superuser: everything;
- community admin / committee member (``Membership``): their community (committee: read only,
  figures and masked lists, never pickup codes);
- clerk (``Membership`` with points): their points and the parcels at them;
- courier (``Courier.user``): their carrier's parcels in their communities, no pickup codes;
- integration (a token): its carrier's parcels in the token's communities, no pickup codes;
- resident (``Resident.user`` or a verified phone): their own parcels;
- proxy (a phone with a live grant): the waiting parcels they may collect.

A caller of the API is a :class:`Principal`: a token in its role, or a signed-in person in
their one role (:func:`role_of`), answered by the same rules, so a person's session and token
see the same fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.db import connection
from django.db.models import ManyToManyField, Q, QuerySet
from django.http import Http404

from jianjian import clock, hotsql
from jianjian.communities.models import Community, Membership, PickupProxy, Resident, StaffRole
from jianjian.couriers.models import ApiToken, Carrier, Courier, Manifest
from jianjian.parcels.models import Parcel, ParcelState
from jianjian.points.models import CollectionPoint
from jianjian.residents.models import Case, PhoneAccount
from jianjian.roles import NO_PICKUP_CODES, Role

User = Any  # an authenticated django.contrib.auth user (or AnonymousUser)


def _authenticated(user: User) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def admin_communities(user: User) -> QuerySet[Community]:
    """Communities the user administers (write access to everything in them)."""
    if not _authenticated(user):
        return Community.objects.none()
    if user.is_superuser:
        return Community.objects.all()
    return Community.objects.filter(memberships__user=user, memberships__role=StaffRole.ADMIN)


def report_communities(user: User) -> QuerySet[Community]:
    """Communities whose reports the user may read: admins and committee members."""
    if not _authenticated(user):
        return Community.objects.none()
    if user.is_superuser:
        return Community.objects.all()
    return Community.objects.filter(
        memberships__user=user, memberships__role__in=[StaffRole.ADMIN, StaffRole.COMMITTEE]
    ).distinct()


def report_community_for(user: User, slug: str) -> Community:
    """The community whose dashboard and exports the user asks for, or 404."""
    try:
        return report_communities(user).get(slug=slug)
    except Community.DoesNotExist:
        raise Http404 from None


def sees_private_details(user: User, community: Community) -> bool:
    """Whether the community's reports show the user pickup codes and full names: its admins
    yes; the committee reads figures and masked lists only."""
    return admin_communities(user).filter(pk=community.pk).exists()


def missing_cases(user: User) -> QuerySet[Any]:
    """Missing-parcel cases the user may read: their report communities', and their points'."""
    from jianjian.stocktake.models import MissingCase

    if not _authenticated(user):
        return MissingCase.objects.none()
    return MissingCase.objects.filter(
        Q(community__in=report_communities(user)) | Q(point__in=clerk_points(user))
    ).distinct()


@dataclass(frozen=True)
class Staff:
    """Where a user is staff, read once per request from the staff directory (``Membership``).

    The directory is small (a handful of people per community) and read by user on every staff
    request, so a district keeps it whole on every database node (a reference table,
    docs/scale.md). What is then read of a community's own tables names the communities found
    here, so it is routed to them alone.
    """

    roles: tuple[tuple[int, str], ...] = ()  # (community id, role)
    clerk_at: tuple[tuple[int, int], ...] = ()  # (community id, point id) of clerk memberships
    slugs: tuple[tuple[int, str], ...] = ()  # (community id, its slug), for links to them

    def communities(self, *roles: str) -> set[int]:
        return {community for community, role in self.roles if role in roles}


_STAFF_MEMO = "_jianjian_staff"


def staff_of(user: User) -> Staff:
    """The user's staff directory entries, in one query, remembered on this request's user."""
    if not _authenticated(user):
        return Staff()
    memo = getattr(user, _STAFF_MEMO, None)
    if memo is not None:
        return memo  # type: ignore[no-any-return]
    rows = Membership.objects.filter(user=user).values_list(
        "community_id", "community__slug", "role", "points"
    )
    roles: set[tuple[int, str]] = set()
    clerk_at: set[tuple[int, int]] = set()
    slugs: set[tuple[int, str]] = set()
    for community, slug, role, point in rows:
        roles.add((community, role))
        slugs.add((community, slug))
        if role == StaffRole.CLERK and point is not None:
            clerk_at.add((community, point))
    staff = Staff(
        roles=tuple(sorted(roles)), clerk_at=tuple(sorted(clerk_at)), slugs=tuple(sorted(slugs))
    )
    setattr(user, _STAFF_MEMO, staff)
    return staff


def clerk_points(user: User) -> QuerySet[CollectionPoint]:
    """Points where the user works the counter: a clerk's own; every point for an admin.

    Every branch names its communities, so a district's database routes the read to them."""
    if not _authenticated(user):
        return CollectionPoint.objects.none()
    if user.is_superuser:
        return CollectionPoint.objects.filter(active=True)
    staff = staff_of(user)
    admin = staff.communities(StaffRole.ADMIN)
    q = Q(community_id__in=sorted(admin)) if admin else Q(pk__in=[])
    if staff.clerk_at:
        q |= Q(
            community_id__in=sorted({c for c, _p in staff.clerk_at}),
            pk__in=sorted({p for _c, p in staff.clerk_at}),
        )
    if not admin and not staff.clerk_at:
        return CollectionPoint.objects.none()
    return CollectionPoint.objects.filter(q, active=True)


def point_for(user: User, point_id: int | str) -> CollectionPoint:
    """One of :func:`clerk_points` by id, with its community, or 404.

    Every counter request and API scan asks this first, so it is one statement built once
    (:mod:`jianjian.hotsql`) that says what :func:`clerk_points` says for one point: an active
    point where the user is a clerk bound to it or an admin of its community (any active point
    for a superuser).
    """
    try:
        pk = int(point_id)
    except (ValueError, TypeError):
        raise Http404 from None
    if not _authenticated(user):
        raise Http404
    remembered = pk in _POINT_COMMUNITY
    row = _point_row(user, pk, _community_of_point(pk))
    if row is None and remembered:
        # The point may have been remembered in another community (moved in the Django admin):
        # read it anew once. A point just read needs no second try.
        del _POINT_COMMUNITY[pk]
        row = _point_row(user, pk, _community_of_point(pk))
    if row is None:
        raise Http404
    point, community = hotsql.split(row, CollectionPoint, Community)
    assert isinstance(point, CollectionPoint) and isinstance(community, Community)
    point.community = community
    return point


def _point_row(user: User, pk: int, community_id: int | None) -> Any:
    if community_id is None:
        return None
    with connection.cursor() as cursor:
        if user.is_superuser:
            cursor.execute(_point_sql(staff=False), [community_id, pk, True])
        else:
            cursor.execute(
                _point_sql(staff=True),
                [user.pk, StaffRole.ADMIN, community_id, pk, True, user.pk, StaffRole.CLERK],
            )
        return cursor.fetchone()


# Which community each point belongs to, remembered by this process: the counter's URLs and the
# API's scans carry only a point id, and a statement that names its community is routed to that
# community's database node in a district (docs/scale.md). A point never changes community in
# the product; if one is moved by hand, point_for finds no row, forgets the entry and reads again.
_POINT_COMMUNITY: dict[int, int] = {}
_POINT_COMMUNITY_MAX = 100_000


def _community_of_point(pk: int) -> int | None:
    found = _POINT_COMMUNITY.get(pk)
    if found is None:
        found = CollectionPoint.objects.filter(pk=pk).values_list("community_id", flat=True).first()
        if found is not None:
            if len(_POINT_COMMUNITY) >= _POINT_COMMUNITY_MAX:
                _POINT_COMMUNITY.clear()
            _POINT_COMMUNITY[pk] = found
    return found


_POINT_SQL: dict[bool, str] = {}


def _point_sql(*, staff: bool) -> str:
    """:func:`point_for`'s statement; ``staff``: a non-superuser's, checking their membership."""
    text = _POINT_SQL.get(staff)
    if text is not None:
        return text
    q = hotsql.quote
    points = Membership._meta.get_field("points")
    assert isinstance(points, ManyToManyField)
    bindings = q(points.m2m_db_table())
    member_col, point_col = q(points.m2m_column_name()), q(points.m2m_reverse_name())
    members = hotsql.table(Membership)
    text = (
        f"SELECT {hotsql.column_list(CollectionPoint, 'p')}, {hotsql.column_list(Community, 'c')} "
        f"FROM {hotsql.table(CollectionPoint)} p JOIN {hotsql.table(Community)} c "
        f"ON c.{q('id')} = p.{q('community_id')} "
    )
    if not staff:
        text += f"WHERE p.{q('community_id')} = %s AND p.{q('id')} = %s AND p.{q('active')} = %s"
    else:
        # The admin membership joins on the point's community (one per user and community);
        # a clerk's binding to the point is looked up beside it.
        text += (
            f"LEFT JOIN {members} a ON a.{q('community_id')} = p.{q('community_id')} "
            f"AND a.{q('user_id')} = %s AND a.{q('role')} = %s "
            f"WHERE p.{q('community_id')} = %s AND p.{q('id')} = %s AND p.{q('active')} = %s "
            f"AND (a.{q('id')} IS NOT NULL "
            f"OR EXISTS (SELECT 1 FROM {bindings} mp JOIN {members} m "
            f"ON m.{q('id')} = mp.{member_col} "
            f"WHERE mp.{point_col} = p.{q('id')} AND m.{q('user_id')} = %s "
            f"AND m.{q('role')} = %s))"
        )
    _POINT_SQL[staff] = text
    return text


def courier_of(user: User) -> Courier | None:
    if not _authenticated(user):
        return None
    return Courier.objects.filter(user=user, active=True).select_related("carrier").first()


def resident_of(user: User) -> Resident | None:
    if not _authenticated(user):
        return None
    return Resident.objects.filter(user=user).select_related("community", "flat").first()


def visible_parcels(user: User) -> QuerySet[Parcel]:
    """Every parcel the user may see, whatever their role(s)."""
    if not _authenticated(user):
        return Parcel.objects.none()
    if user.is_superuser:
        return Parcel.objects.all()
    q = Q(community__in=report_communities(user)) | Q(point__in=clerk_points(user))
    courier = courier_of(user)
    if courier is not None:
        q |= Q(carrier=courier.carrier, community__in=courier.communities.all())
    q |= Q(recipient__in=own_residents(user)) | _proxied_q(user)
    return Parcel.objects.filter(q).distinct()


def parcel_for(user: User, parcel_id: int | str) -> Parcel:
    try:
        return visible_parcels(user).get(pk=int(parcel_id))
    except (Parcel.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def counter_parcel_for(user: User, point: CollectionPoint, parcel_id: int | str) -> Parcel:
    """A parcel as the counter of ``point`` shows it: one the user may see that is or was at
    this point (its custody trail passed here), or 404."""
    parcel = parcel_for(user, parcel_id)
    if not parcel.events.filter(point=point).exists():
        raise Http404
    return parcel


def can_work_point(user: User, point: CollectionPoint) -> bool:
    return clerk_points(user).filter(pk=point.pk).exists()


# --- one principal, one role -----------------------------------------------------------------
# A caller of the API is a token acting in its role, or a person signed in on the pages acting in
# their own role (:func:`role_of`). Both go through the same rules below, so a courier's session
# sees exactly what the courier's token sees.


def role_of(user: User) -> Role:
    """The one role a signed-in person acts in on the API and in what the pages show them: the
    strongest they hold (a committee member who also clerks works as a clerk)."""
    if not _authenticated(user):
        return Role.ANONYMOUS
    if user.is_superuser:
        return Role.SUPERUSER
    held = {role for _community, role in staff_of(user).roles}
    for role in (Role.ADMIN, Role.CLERK, Role.COMMITTEE):
        if role in held:
            return role
    if courier_of(user) is not None:
        return Role.COURIER
    if own_residents(user).exists():
        return Role.RESIDENT
    if live_proxy_grants(user).exists():
        return Role.PROXY
    return Role.ANONYMOUS


@dataclass(frozen=True)
class Principal:
    """Who calls the API: a bearer token acting for its role, or a signed-in person."""

    user: Any
    role: Role
    token: ApiToken | None = None
    # The access version read with the token in this request (communities.AccessVersion);
    # None for a signed-in person, whose point checks are always read.
    access_version: int | None = None

    @classmethod
    def of_user(cls, user: User) -> Principal:
        return cls(user=user, role=role_of(user))

    @property
    def can_write(self) -> bool:
        if self.token is not None and not self.token.can_write:
            return False
        return self.role in WRITERS

    @cached_property
    def worked_points(self) -> set[int]:
        """Points :func:`api_work_point` let this caller work in this request."""
        return set()

    @cached_property
    def sees_code(self) -> Callable[[Parcel], bool]:
        """Whether this caller may see a parcel's pickup code (asked once per request).

        A parcel at a point the caller was just let work (:func:`api_work_point`: one of their
        :func:`clerk_points`) is one whose code they see; only other parcels need
        :func:`pickup_code_rule`'s three reads, made at the first such parcel.
        """
        if self.role in NO_PICKUP_CODES:
            return lambda parcel: False
        worked = self.worked_points
        rule: list[Callable[[Parcel], bool]] = []

        def sees(parcel: Parcel) -> bool:
            if parcel.point_id is not None and parcel.point_id in worked:
                return True
            if not rule:
                rule.append(pickup_code_rule(self.user, self.role))
            return rule[0](parcel)

        return sees


# Roles that may send anything over the API at all (residents, committee and proxies only read).
WRITERS = frozenset({Role.SUPERUSER, Role.ADMIN, Role.CLERK, Role.COURIER, Role.INTEGRATION})
# Who announces parcels: couriers, carrier systems and admins.
MANIFEST_SENDERS = frozenset({Role.SUPERUSER, Role.ADMIN, Role.COURIER, Role.INTEGRATION})
# Who works a point's counter over the API (intake, hand-over, return).
COUNTER_ROLES = frozenset({Role.SUPERUSER, Role.ADMIN, Role.CLERK})


def pickup_code_rule(user: User, role: Role) -> Callable[[Parcel], bool]:
    """A pickup code is enough to collect a parcel: only the staff of the point it waits at and
    the people who may collect it see it; couriers, carrier systems and the committee never."""
    if role in NO_PICKUP_CODES or not _authenticated(user):
        return lambda parcel: False
    if user.is_superuser:
        return lambda parcel: True
    if role in (Role.ADMIN, Role.CLERK):
        # Staff act as staff (one role per person): the codes of their points' parcels.
        points = set(clerk_points(user).values_list("pk", flat=True))
        return lambda parcel: parcel.point_id in points
    residents = set(own_residents(user).values_list("pk", flat=True))
    proxied = set(proxied_parcels(user).values_list("pk", flat=True))
    return lambda parcel: parcel.recipient_id in residents or parcel.pk in proxied


def api_courier(principal: Principal) -> Courier | None:
    if principal.role == Role.COURIER:
        return courier_of(principal.user)
    return None


def api_carrier(principal: Principal) -> Carrier | None:
    """The carrier a carrier system's token speaks for (couriers speak through their courier)."""
    if principal.role == Role.INTEGRATION and principal.token is not None:
        return principal.token.carrier
    return None


def _carrier_parcels(carrier_id: int | None, communities: QuerySet[Community]) -> QuerySet[Parcel]:
    if carrier_id is None:
        return Parcel.objects.none()
    return Parcel.objects.filter(carrier_id=carrier_id, community__in=communities)


def api_parcels(principal: Principal) -> QuerySet[Parcel]:
    """Parcels the caller may see: a courier or carrier system only its carrier's, in its
    communities; a resident only their own; staff what their memberships allow."""
    token = principal.token
    if principal.role == Role.INTEGRATION:
        if token is None:
            return Parcel.objects.none()
        return _carrier_parcels(token.carrier_id, token.communities.all())
    if principal.role == Role.COURIER:
        courier = courier_of(principal.user)
        if courier is None:
            return Parcel.objects.none()
        return _carrier_parcels(courier.carrier_id, courier.communities.all())
    if principal.role in (Role.RESIDENT, Role.PROXY):
        # A phone's own parcels, and the waiting ones it may collect for someone else.
        return own_parcels(principal.user) | proxied_parcels(principal.user)
    return visible_parcels(principal.user)


def api_parcel(principal: Principal, parcel_id: int | str) -> Parcel:
    try:
        return (
            api_parcels(principal)
            .select_related("community", "carrier", "point")
            .get(pk=int(parcel_id))
        )
    except (Parcel.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def api_communities(principal: Principal) -> QuerySet[Community]:
    """Communities the caller may send manifests for and read drop plans of."""
    if principal.role == Role.INTEGRATION:
        if principal.token is None:
            return Community.objects.none()
        return principal.token.communities.all()
    if principal.role == Role.COURIER:
        courier = courier_of(principal.user)
        return courier.communities.all() if courier else Community.objects.none()
    if principal.role in (Role.ADMIN, Role.SUPERUSER):
        return admin_communities(principal.user)
    return Community.objects.none()


def api_community(principal: Principal, slug: str) -> Community:
    try:
        return api_communities(principal).get(slug=slug)
    except Community.DoesNotExist:
        raise Http404 from None


def may_send_manifests(principal: Principal) -> bool:
    return principal.role in MANIFEST_SENDERS


def api_manifests(principal: Principal) -> QuerySet[Manifest]:
    """Manifests the caller may read: a courier or carrier system its carrier's, in its
    communities; an admin every manifest of their communities."""
    qs = Manifest.objects.filter(community__in=api_communities(principal)).select_related(
        "community"
    )
    if principal.role == Role.INTEGRATION and principal.token is not None:
        return qs.filter(carrier=principal.token.carrier)
    courier = api_courier(principal)
    if courier is not None:
        return qs.filter(carrier_id=courier.carrier_id)
    return qs


def api_points(principal: Principal) -> QuerySet[CollectionPoint]:
    """Points the caller may see (with today's capacity): staff's own, or their communities'."""
    if principal.role in COUNTER_ROLES:
        return clerk_points(principal.user)
    if principal.role == Role.RESIDENT:
        communities = own_residents(principal.user).values("community_id")
        return CollectionPoint.objects.filter(community_id__in=communities, active=True)
    return CollectionPoint.objects.filter(community__in=api_communities(principal), active=True)


def works_counters(principal: Principal) -> bool:
    """Whether the caller's role works counters at all (the API answers 403 to other roles)."""
    return principal.role in COUNTER_ROLES


def api_work_point(principal: Principal, point_id: int | str) -> CollectionPoint:
    """A point where the caller may take parcels in or hand them out (clerks and admins)."""
    if not works_counters(principal):
        raise Http404
    point = point_for(principal.user, point_id)
    principal.worked_points.add(point.pk)
    return point


def api_scan_point(principal: Principal, point_id: int | str) -> CollectionPoint:
    """:func:`api_work_point` for a scan, which locks and reads the point itself: the point's id
    and community only, taken from this process's memory when the same caller was let work
    there under the access version read with this request's token (a membership, its points or
    the point changed since raise it, and the check is read again)."""
    version = principal.access_version
    if version is None or not works_counters(principal):
        return api_work_point(principal, point_id)
    user = principal.user
    try:
        key = (user.pk, bool(user.is_superuser), int(point_id))
    except (ValueError, TypeError):
        raise Http404 from None
    known = _SCAN_POINTS.get(key)
    if known is not None and known[0] == version:
        principal.worked_points.add(key[2])
        return CollectionPoint(pk=key[2], community_id=known[1])
    point = api_work_point(principal, point_id)
    if len(_SCAN_POINTS) >= _POINT_COMMUNITY_MAX:
        _SCAN_POINTS.clear()
    _SCAN_POINTS[key] = (version, point.community_id)
    return point


# (user, superuser, point) -> (access version, community) for each point a caller was let scan
# at: a yes remembered under the version it was decided at, never a no.
_SCAN_POINTS: dict[tuple[int, bool, int], tuple[int, int]] = {}


def api_couriers(principal: Principal) -> QuerySet[Courier]:
    if principal.role == Role.INTEGRATION:
        if principal.token is None:
            return Courier.objects.none()
        return Courier.objects.filter(
            carrier=principal.token.carrier,
            communities__in=principal.token.communities.all(),
        ).distinct()
    courier = api_courier(principal)
    if courier is not None:
        return Courier.objects.filter(pk=courier.pk)
    if principal.role in COUNTER_ROLES:
        communities = (
            Community.objects.filter(memberships__user=principal.user)
            if not principal.user.is_superuser
            else Community.objects.all()
        )
        return Courier.objects.filter(communities__in=communities).distinct()
    return Courier.objects.none()


def collecting_courier(community: Community, courier_id: int | str | None) -> Courier | None:
    """The courier a point may give returned parcels to: an active courier of its community."""
    try:
        pk = int(courier_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return Courier.objects.filter(pk=pk, communities=community, active=True).first()


# --- residents and proxies (issue 6) ---------------------------------------------------------
# A phone that signed in with a one-time code sees: the parcels of every resident row with that
# phone (one per community), and the waiting parcels that a live proxy grant to that phone covers.
# Nothing else — in particular, not a parcel once its proxy grant is revoked or expired.


def phone_of(user: User) -> str | None:
    """The phone the user proved with a one-time code, if any.

    A phone found is remembered on this request's user (a page asks for it many times); none
    found is asked again, since the sign-in that proves a phone may be under way."""
    if not _authenticated(user):
        return None
    memo = getattr(user, _PHONE_MEMO, None)
    if memo is not None:
        return memo  # type: ignore[no-any-return]
    phone = PhoneAccount.objects.filter(user=user).values_list("phone", flat=True).first()
    if phone is not None:
        setattr(user, _PHONE_MEMO, phone)
    return phone


_PHONE_MEMO = "_jianjian_phone"


def own_residents(user: User) -> QuerySet[Resident]:
    if not _authenticated(user):
        return Resident.objects.none()
    q = Q(user=user)
    phone = phone_of(user)
    if phone:
        q |= Q(phone=phone)
    return Resident.objects.filter(q).select_related("community", "flat")


def live_proxy_grants(user: User) -> QuerySet[PickupProxy]:
    """Grants made to the user's phone that are neither revoked nor expired."""
    phone = phone_of(user)
    if not phone:
        return PickupProxy.objects.none()
    return PickupProxy.objects.filter(
        phone=phone, revoked_at__isnull=True, valid_until__gt=clock.now()
    ).select_related("resident", "resident__community", "resident__flat", "parcel")


def _proxied_q(user: User) -> Q:
    q = Q(pk__in=[])
    for grant in live_proxy_grants(user):
        one = Q(recipient_id=grant.resident_id, community_id=grant.community_id)
        if grant.parcel_id is not None:
            one &= Q(pk=grant.parcel_id)
        q |= one
    return q & Q(state=ParcelState.AT_POINT)


def own_parcels(user: User) -> QuerySet[Parcel]:
    """The parcels addressed to the user as a resident (all states: history included)."""
    return Parcel.objects.filter(recipient__in=own_residents(user))


def proxied_parcels(user: User) -> QuerySet[Parcel]:
    """Waiting parcels the user may collect for someone else."""
    if phone_of(user) is None:
        return Parcel.objects.none()
    return Parcel.objects.filter(_proxied_q(user))


def own_parcel_for(user: User, parcel_id: int | str) -> Parcel:
    try:
        return (
            own_parcels(user)
            .select_related("point", "community", "carrier", "recipient")
            .get(pk=int(parcel_id))
        )
    except (Parcel.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def granted_proxies(user: User) -> QuerySet[PickupProxy]:
    """The grants the user made as a resident (live or not)."""
    return PickupProxy.objects.filter(resident__in=own_residents(user))


def granted_proxy_for(user: User, proxy_id: int | str) -> PickupProxy:
    """A grant the user made as a resident (to revoke it)."""
    try:
        return granted_proxies(user).select_related("resident").get(pk=int(proxy_id))
    except (PickupProxy.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def live_grant_for(user: User, proxy_id: int | str) -> PickupProxy:
    """A live grant made to the user's phone (to show its pickup QR)."""
    try:
        return live_proxy_grants(user).get(pk=int(proxy_id))
    except (PickupProxy.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def resident_cases(user: User) -> QuerySet[Case]:
    return Case.objects.filter(resident__in=own_residents(user))


def resident_case_for(user: User, case_id: int | str) -> Case:
    try:
        return resident_cases(user).select_related("parcel", "resident").get(pk=int(case_id))
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def admin_cases(user: User) -> QuerySet[Case]:
    """Complaint cases the user handles: every case of the communities they administer."""
    return Case.objects.filter(community__in=admin_communities(user))


def admin_case_for(user: User, case_id: int | str) -> Case:
    try:
        return (
            admin_cases(user)
            .select_related("parcel", "parcel__point", "resident", "resident__flat", "community")
            .get(pk=int(case_id))
        )
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- the community admin's console -----------------------------------------------------------
# Only a community's admins (and superusers) reach its console; for anyone else it does not exist.


def console_community_for(user: User, slug: str) -> Community:
    """The community whose console the user opens, or 404."""
    try:
        return admin_communities(user).get(slug=slug)
    except Community.DoesNotExist:
        raise Http404 from None


def audit_entries(user: User, community: Community) -> QuerySet[Any]:
    """The console's audit log of a community, for its admins."""
    from jianjian.console.models import AuditEntry

    if not admin_communities(user).filter(pk=community.pk).exists():
        return AuditEntry.objects.none()
    return AuditEntry.objects.filter(community=community)


def can_read_metrics(user: User) -> bool:
    """Prometheus metrics show every point's stock: superusers only (scrapers use the token)."""
    return _authenticated(user) and bool(user.is_superuser)


# --- the console's people pages: residents, flats, roster uploads, staff, couriers -----------
# Each takes the community the console resolved (console_community_for) and answers only for
# its admins; an object of another community is 404 (_console_objects / _console_get below).


def console_residents(user: User, community: Community) -> QuerySet[Resident]:
    return _console_objects(user, community, Resident.objects.filter(community=community))


def console_resident_for(user: User, community: Community, pk: int | str) -> Resident:
    return _console_get(console_residents(user, community).select_related("flat"), pk)  # type: ignore[no-any-return]


def console_flats(user: User, community: Community) -> QuerySet[Any]:
    from jianjian.communities.models import Flat

    return _console_objects(user, community, Flat.objects.filter(community=community))


def console_flat_for(user: User, community: Community, pk: int | str) -> Any:
    return _console_get(console_flats(user, community).select_related("building"), pk)


def console_building_for(user: User, community: Community, pk: int | str) -> Any:
    from jianjian.communities.models import Building

    buildings = Building.objects.filter(community=community)
    return _console_get(_console_objects(user, community, buildings), pk)


def console_roster_upload_for(user: User, community: Community, pk: int | str) -> Any:
    from jianjian.communities.models import RosterUpload

    uploads = RosterUpload.objects.filter(community=community)
    return _console_get(_console_objects(user, community, uploads), pk)


def console_staff(user: User, community: Community) -> QuerySet[Membership]:
    return _console_objects(user, community, Membership.objects.filter(community=community))


def console_member_for(user: User, community: Community, pk: int | str) -> Membership:
    return _console_get(console_staff(user, community).select_related("user"), pk)  # type: ignore[no-any-return]


def console_couriers(user: User, community: Community) -> QuerySet[Courier]:
    return _console_objects(user, community, Courier.objects.filter(communities=community))


def console_courier_for(user: User, community: Community, pk: int | str) -> Courier:
    couriers = console_couriers(user, community).select_related("carrier", "user")
    return _console_get(couriers, pk)  # type: ignore[no-any-return]


# --- console: operations (points, closures, slots, distances, disinfection, robots, tokens) ---
# Each takes the community that console_community_for() gave the admin, checks again that the
# user runs it, and answers 404 for an object of any other community.


def _console_objects(user: User, community: Community, queryset: QuerySet[Any]) -> QuerySet[Any]:
    if not admin_communities(user).filter(pk=community.pk).exists():
        return queryset.none()
    return queryset


def _console_get(queryset: QuerySet[Any], pk: int | str) -> Any:
    try:
        return queryset.get(pk=int(pk))
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def console_points(user: User, community: Community) -> QuerySet[CollectionPoint]:
    return _console_objects(user, community, CollectionPoint.objects.filter(community=community))


def console_point_for(user: User, community: Community, pk: int | str) -> CollectionPoint:
    return _console_get(console_points(user, community), pk)  # type: ignore[no-any-return]


def console_closure_for(user: User, point: CollectionPoint, pk: int | str) -> Any:
    from jianjian.points.models import PointClosure

    closures = PointClosure.objects.filter(point=point, community_id=point.community_id)
    return _console_get(_console_objects(user, point.community, closures), pk)


def console_tasks(user: User, community: Community) -> QuerySet[Any]:
    from jianjian.points.models import DisinfectionTask

    tasks = DisinfectionTask.objects.filter(community=community, point__community=community)
    return _console_objects(user, community, tasks)


def console_task_for(user: User, community: Community, pk: int | str) -> Any:
    return _console_get(console_tasks(user, community), pk)


def console_robots(user: User, community: Community) -> QuerySet[Any]:
    from jianjian.notify.models import GroupRobot

    return _console_objects(user, community, GroupRobot.objects.filter(community=community))


def console_robot_for(user: User, community: Community, pk: int | str) -> Any:
    return _console_get(console_robots(user, community), pk)


def console_robot_message_for(user: User, community: Community, pk: int | str) -> Any:
    """A robot's outbox row (e.g. its test message), for the admins of the robot's community."""
    from jianjian.notify.models import Notification

    rows = Notification.objects.filter(
        community=community, robot__community=community, robot__isnull=False
    )
    return _console_get(_console_objects(user, community, rows), pk)


def console_tokens(user: User, community: Community) -> QuerySet[ApiToken]:
    """API tokens issued for the community (the console issues each for one community)."""
    tokens = ApiToken.objects.filter(communities=community).distinct()
    return _console_objects(user, community, tokens)


def console_token_for(user: User, community: Community, pk: int | str) -> ApiToken:
    return _console_get(console_tokens(user, community), pk)  # type: ignore[no-any-return]


# --- where each person lands, what their menu offers, and phones without a roster row -------
# One answer per person, read from their roles in a handful of queries. A person with several
# roles lands on the most demanding one (admin, committee, clerk, courier, resident) and sees
# every area they may use in the menu.


@dataclass(frozen=True)
class Roles:
    """The areas a signed-in user may use, as the menu and the landing page need them."""

    superuser: bool = False
    admin_slugs: tuple[str, ...] = ()
    report_slugs: tuple[str, ...] = ()
    clerk_point_ids: tuple[int, ...] = ()  # at most two: "one point" or "several"
    courier: bool = False
    phone: str | None = None
    rostered: bool = False  # the phone (or user) has a resident row somewhere


def roles_of(user: User) -> Roles:
    if not _authenticated(user):
        return Roles()
    staff = staff_of(user)
    slugs = dict(staff.slugs)
    member = [(role, slugs[community]) for community, role in staff.roles]
    admin = tuple(sorted(slug for role, slug in member if role == StaffRole.ADMIN))
    report = tuple(
        sorted(slug for role, slug in member if role in (StaffRole.ADMIN, StaffRole.COMMITTEE))
    )
    points: tuple[int, ...] = ()
    if user.is_superuser or any(role in (StaffRole.ADMIN, StaffRole.CLERK) for role, _ in member):
        points = tuple(clerk_points(user).order_by("pk").values_list("pk", flat=True)[:2])
    phone = phone_of(user)
    return Roles(
        superuser=bool(user.is_superuser),
        admin_slugs=admin,
        report_slugs=report,
        clerk_point_ids=points,
        courier=Courier.objects.filter(user=user, active=True).exists(),
        phone=phone,
        rostered=phone is not None and own_residents(user).exists(),
    )


def _reports_url(slugs: tuple[str, ...]) -> str:
    from django.urls import reverse

    if len(slugs) == 1:
        return reverse("reports:dashboard", args=[slugs[0]])
    return reverse("reports:index")


def _counter_url(point_ids: tuple[int, ...]) -> str:
    from django.urls import reverse

    if len(point_ids) == 1:
        return reverse("counter:intake", args=[point_ids[0]])
    return reverse("counter:choose")


def landing_for(user: User, roles: Roles | None = None) -> str:
    """Where the user starts after signing in (and at ``/``); the public home for nobody."""
    from django.urls import reverse

    roles = roles or roles_of(user)
    if roles.admin_slugs or roles.report_slugs:
        return _reports_url(roles.admin_slugs or roles.report_slugs)
    if roles.clerk_point_ids:
        return _counter_url(roles.clerk_point_ids)
    if roles.superuser:
        # A superuser without points yet sets communities up: the console's community list, or
        # the Django admin while there is no community at all.
        if Community.objects.exists():
            return reverse("console:choose")
        return reverse("admin:index")
    if roles.courier:
        return reverse("couriers:home")
    if roles.phone is not None:
        return reverse("residents:home")
    return reverse("home")


def nav_for(user: User, roles: Roles | None = None) -> list[tuple[str, str]]:
    """The menu: ``(label, url)`` of every area the user may use, in the order of their work."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    roles = roles or roles_of(user)
    items: list[tuple[str, str]] = []
    if roles.report_slugs or roles.superuser:
        items.append((_("Dashboard"), _reports_url(roles.report_slugs)))
    if roles.admin_slugs or roles.superuser:
        items.append((_("Console"), reverse("console:choose")))
        items.append((_("Complaints"), reverse("residents:staff_cases")))
    if roles.clerk_point_ids:
        items.append((_("Counter"), _counter_url(roles.clerk_point_ids)))
    if roles.clerk_point_ids or roles.report_slugs:
        items.append((_("Missing parcels"), reverse("stocktake:cases")))
    if roles.courier:
        items.append((_("Drop plan"), reverse("couriers:home")))
        items.append((_("Send a manifest"), reverse("couriers:upload")))
    if roles.phone is not None:
        items.append((_("My parcels"), reverse("residents:home")))
        if roles.rostered:
            items.append((_("Proxies"), reverse("residents:proxies")))
            items.append((_("My reports"), reverse("residents:cases")))
            items.append((_("Preferences"), reverse("residents:preferences")))
        items.append((_("My flat"), reverse("residents:link")))
    if roles.superuser:
        items.append((_("Administration"), reverse("admin:index")))
    return items


def _phone_only_q(phone: str) -> Q:
    # A parcel that no roster row claims, addressed to this phone (pre-advice or typed at
    # intake). Parcels matched to a resident are reached through that resident instead.
    return Q(recipient__isnull=True, recipient_phone=phone)


def phone_parcels(user: User) -> QuerySet[Parcel]:
    """Parcels addressed to the user's proven phone that no roster row claims."""
    phone = phone_of(user)
    if not phone:
        return Parcel.objects.none()
    return Parcel.objects.filter(_phone_only_q(phone))


def my_parcels(user: User) -> QuerySet[Parcel]:
    """What a phone sees as "my parcels": its residents' parcels and those addressed to it."""
    phone = phone_of(user)
    q = Q(recipient__in=own_residents(user))
    if phone:
        q |= _phone_only_q(phone)
    return Parcel.objects.filter(q)


def my_parcel_for(user: User, parcel_id: int | str) -> Parcel:
    try:
        return (
            my_parcels(user)
            .select_related("point", "community", "carrier", "recipient")
            .get(pk=int(parcel_id))
        )
    except (Parcel.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def phone_communities(user: User) -> QuerySet[Community]:
    """Communities where the user's phone has parcels but no roster row: where it may ask to be
    linked to a flat."""
    phone = phone_of(user)
    if not phone:
        return Community.objects.none()
    return (
        Community.objects.filter(parcels__in=Parcel.objects.filter(_phone_only_q(phone)))
        .exclude(residents__phone=phone)
        .distinct()
    )


def own_link_requests(user: User) -> QuerySet[Any]:
    from jianjian.residents.models import LinkRequest

    phone = phone_of(user)
    if not phone:
        return LinkRequest.objects.none()
    return LinkRequest.objects.filter(phone=phone)


def link_requests(user: User, community: Community) -> QuerySet[Any]:
    """The requests to be linked to a flat that the user decides: their console community's."""
    from jianjian.residents.models import LinkRequest

    if not admin_communities(user).filter(pk=community.pk).exists():
        return LinkRequest.objects.none()
    return LinkRequest.objects.filter(community=community)


def link_request_for(user: User, community: Community, pk: int | str) -> Any:
    from jianjian.residents.models import LinkRequest

    try:
        return link_requests(user, community).get(pk=int(pk))
    except (LinkRequest.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- the courier's own page: ending a pre-advice -----------------------------------------------


def courier_parcel_for(user: User, parcel_id: int | str) -> Parcel:
    """A parcel the signed-in courier may end the pre-advice of on their page: one of their
    carrier's, in a community they serve — or 404 (another carrier's parcel, another community's,
    or no courier at all). Whether it can still end (it must still be announced) is the
    lifecycle's to say, with a message the courier reads."""
    courier = courier_of(user)
    if courier is None:
        raise Http404
    try:
        return (
            _carrier_parcels(courier.carrier_id, courier.communities.all())
            .select_related("community", "carrier", "point")
            .get(pk=int(parcel_id))
        )
    except (Parcel.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
