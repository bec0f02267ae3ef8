"""Stocktake: every kind of discrepancy, its resolution on record, and the custody check after."""

from __future__ import annotations

import datetime as dt

import pytest

from jianjian import clock
from jianjian.parcels import services
from jianjian.parcels.errors import InvalidInput, InvalidTransition, RecipientNeeded
from jianjian.parcels.fold import check
from jianjian.parcels.models import CustodyEvent, EventKind, Method, Parcel, ParcelState
from jianjian.stocktake import services as st
from jianjian.stocktake.models import MissingCase, ResolutionAction, StocktakeStatus
from tests.factories import World, tracking

A = ResolutionAction
pytestmark = pytest.mark.django_db


def take_in(world: World, point=None, resident: int = 0) -> Parcel:
    r = world.residents[resident]
    return services.intake(
        point or world.counter, tracking(), actor=world.clerk, phone=r.phone
    ).parcel


def numbers(lines) -> set[str]:
    return {line.number for line in lines}


def assert_custody_ok(world: World) -> None:
    report = check(world.community.pk)
    assert report.ok, report.problems


def test_found_missing_and_every_kind_of_unexpected_are_told_apart(world):
    here = [take_in(world) for _ in range(3)]
    elsewhere = take_in(world, world.counter2)
    gone = take_in(world)
    services.hand_over(world.counter, [gone], actor=world.clerk)
    lost = take_in(world, world.counter2)
    services.mark_missing(lost, actor=world.clerk)
    announced, _ = services.announce(world.community, tracking(), actor=world.clerk)
    unknown = tracking()

    take = st.start(world.counter, actor=world.clerk)
    for number in [
        here[0].tracking_number,
        here[1].tracking_number,
        elsewhere.tracking_number,
        gone.tracking_number,
        lost.tracking_number,
        announced.tracking_number,
        unknown,
    ]:
        st.scan(take, number, actor=world.clerk)
    st.scan(take, here[0].tracking_number.lower(), actor=world.clerk)  # re-scan: no second line

    ov = st.overview(take)
    assert ov.expected == 3
    assert ov.scanned == 7
    assert numbers(ov.found) == {here[0].tracking_number, here[1].tracking_number}
    assert numbers(ov.missing) == {here[2].tracking_number}
    kinds = {line.number: line.kind for line in ov.unexpected}
    assert kinds == {
        elsewhere.tracking_number: st.Kind.ELSEWHERE,
        gone.tracking_number: st.Kind.LEFT,
        lost.tracking_number: st.Kind.MISSING_ON_RECORD,
        announced.tracking_number: st.Kind.NOT_TAKEN_IN,
        unknown: st.Kind.UNKNOWN,
    }
    # A parcel already collected cannot be taken back in by a scan: only the admin can sort it.
    by_number = {line.number: line for line in ov.unexpected}
    assert by_number[gone.tracking_number].actions == (A.HAND_TO_ADMIN,)


def test_each_discrepancy_is_resolved_through_the_lifecycle_services(world):
    expected = [take_in(world) for _ in range(2)]
    elsewhere = take_in(world, world.counter2)
    lost = take_in(world, world.counter2)
    services.mark_missing(lost, actor=world.clerk)
    announced, _ = services.announce(
        world.community,
        tracking(),
        actor=world.clerk,
    )
    unknown = tracking()
    stray = tracking()

    take = st.start(world.counter, actor=world.clerk)
    for p in (expected[0], elsewhere, lost):
        st.scan(take, p.tracking_number, actor=world.clerk)
    for number in (announced.tracking_number, unknown, stray):
        st.scan(take, number, actor=world.clerk)

    st.resolve(take, expected[1].tracking_number, A.MARK_MISSING, actor=world.clerk)
    st.resolve(take, elsewhere.tracking_number, A.MOVE_HERE, actor=world.clerk)
    st.resolve(take, lost.tracking_number, A.FOUND, actor=world.clerk)
    r = world.residents[1]
    st.resolve(take, announced.tracking_number, A.TAKE_IN, actor=world.clerk, phone=r.phone)
    st.resolve(take, unknown, A.TAKE_IN, actor=world.clerk, phone_last4="5678", flat="3-2-501")
    st.resolve(take, stray, A.HAND_TO_ADMIN, actor=world.clerk, note="no label")

    def state(p: Parcel) -> tuple[str, int | None]:
        p.refresh_from_db()
        return p.state, p.point_id

    assert state(expected[1]) == (ParcelState.MISSING, world.counter.pk)
    assert state(elsewhere) == (ParcelState.AT_POINT, world.counter.pk)
    assert state(lost) == (ParcelState.AT_POINT, world.counter.pk)
    assert state(announced) == (ParcelState.AT_POINT, world.counter.pk)
    new = Parcel.objects.get(tracking_number=unknown)
    assert (new.state, new.recipient) == (ParcelState.AT_POINT, world.residents[0])
    assert not Parcel.objects.filter(tracking_number=stray).exists()
    # Every change of custody is on record as a stocktake event.
    stocktake_events = CustodyEvent.objects.filter(method=Method.STOCKTAKE)
    assert stocktake_events.count() == 5
    ov = st.overview(take)
    assert ov.open_discrepancies == 0
    assert len(ov.resolved) == 6
    assert_custody_ok(world)

    done = st.finish(take, actor=world.clerk)
    assert done.status == StocktakeStatus.FINISHED
    kept = {e["number"]: (e["kind"], e["resolution"]) for e in done.report["resolved"]}
    assert kept[expected[1].tracking_number] == (st.Kind.MISSING, A.MARK_MISSING)
    assert kept[stray] == (st.Kind.UNKNOWN, A.HAND_TO_ADMIN)
    assert done.report["missing"] == [] and done.report["unexpected"] == []


def test_a_wrong_resolution_is_refused_and_writes_nothing(world):
    here = take_in(world)
    take = st.start(world.counter, actor=world.clerk)
    unknown = tracking()
    st.scan(take, unknown, actor=world.clerk)
    events = CustodyEvent.objects.count()
    with pytest.raises(InvalidTransition):
        st.resolve(take, here.tracking_number, A.MOVE_HERE, actor=world.clerk)
    with pytest.raises(RecipientNeeded):
        st.resolve(take, unknown, A.TAKE_IN, actor=world.clerk)
    with pytest.raises(InvalidInput):
        st.scan(take, "??", actor=world.clerk)
    assert CustodyEvent.objects.count() == events
    assert not take.resolutions.exists()
    assert_custody_ok(world)


def test_pause_and_resume_keep_the_scans_and_refuse_scanning_while_paused(world):
    p = take_in(world)
    take = st.start(world.counter, actor=world.clerk)
    st.scan(take, p.tracking_number, actor=world.clerk)
    st.pause(take, actor=world.clerk)
    with pytest.raises(InvalidInput) as err:
        st.scan(take, tracking(), actor=world.clerk)
    assert err.value.code == "paused"
    # Starting again at the point resumes the same stocktake, scans intact.
    again = st.start(world.counter, actor=world.clerk)
    assert again.pk == take.pk and again.status == StocktakeStatus.OPEN
    assert numbers(st.overview(again).found) == {p.tracking_number}
    st.finish(again, actor=world.clerk)
    with pytest.raises(InvalidInput):
        st.scan(again, tracking(), actor=world.clerk)
    # The next stocktake is a new one.
    assert st.start(world.counter, actor=world.clerk).pk != take.pk


def test_unresolved_discrepancies_stay_in_the_kept_report(world):
    missing = take_in(world)
    unknown = tracking()
    take = st.start(world.counter, actor=world.clerk)
    st.scan(take, unknown, actor=world.clerk)
    report = st.finish(take, actor=world.clerk).report
    assert report["expected"] == 1 and report["scanned"] == 1 and report["found"] == 0
    assert [e["number"] for e in report["missing"]] == [missing.tracking_number]
    assert [(e["number"], e["kind"]) for e in report["unexpected"]] == [(unknown, "unknown")]


def test_a_missing_parcel_opens_a_case_with_its_trail_and_finding_it_closes_it(world):
    with clock.at(dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)):
        p = take_in(world)
    with clock.at(dt.datetime(2024, 5, 3, 9, tzinfo=dt.UTC)):
        take = st.start(world.counter, actor=world.clerk)
        st.resolve(take, p.tracking_number, A.MARK_MISSING, actor=world.clerk, note="shelf 1 empty")
    case = MissingCase.objects.get(parcel=p)
    assert case.is_open
    assert case.point == world.counter
    assert case.last_seen_kind == EventKind.INTAKE
    assert case.last_seen_by == world.clerk.label
    assert case.last_seen_at == dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)
    assert case.note == "shelf 1 empty"
    # It turns up at the other counter: scanning it in there finds it and closes the case.
    with clock.at(dt.datetime(2024, 5, 4, 9, tzinfo=dt.UTC)):
        services.intake(world.counter2, p.tracking_number, actor=world.clerk)
    case.refresh_from_db()
    assert not case.is_open
    assert case.found_at_point == world.counter2
    assert case.closed_at == dt.datetime(2024, 5, 4, 9, tzinfo=dt.UTC)
    assert_custody_ok(world)


def test_points_with_aged_parcels_and_no_recent_stocktake_are_flagged(world):
    start = dt.datetime(2024, 6, 1, 2, tzinfo=dt.UTC)
    with clock.at(start):
        take_in(world)  # at counter A
        take_in(world, world.counter2)
    with clock.at(start + dt.timedelta(hours=1)):
        # Fresh parcels are not aged: nothing flagged yet.
        assert list(st.points_due(world.community)) == []
    later = start + dt.timedelta(days=2)
    with clock.at(later):
        assert [p.code for p in st.points_due(world.community)] == ["A", "B"]
        take = st.start(world.counter, actor=world.clerk)
        st.finish(take, actor=world.clerk)
        assert [p.code for p in st.points_due(world.community)] == ["B"]
    with clock.at(later + dt.timedelta(days=7, minutes=1)):
        assert [p.code for p in st.points_due(world.community)] == ["A", "B"]


def test_two_clerks_starting_at_once_share_one_stocktake(world):
    first = st.start(world.counter, actor=world.clerk)
    second = st.start(world.counter, actor=services.Actor.system("other"))
    assert first.pk == second.pk


def test_a_stray_number_of_two_carriers_is_taken_in_with_the_carrier_on_its_label(world, client):
    from django.urls import reverse

    from jianjian.parcels.errors import CarrierAmbiguous
    from tests.factories import make_clerk

    number = "430000009000001"  # STO's 15-digit format and Yunda's
    take = st.start(world.counter, actor=world.clerk)
    st.scan(take, number, actor=world.clerk)
    client.force_login(make_clerk(world))
    page = client.get(reverse("stocktake:session", args=[take.pk])).content.decode()
    assert f'data-testid="carrier-{number}"' in page
    assert 'value="sto"' in page and 'value="yunda"' in page
    with pytest.raises(CarrierAmbiguous):  # without the carrier: asked, nothing written
        st.resolve(take, number, A.TAKE_IN, actor=world.clerk, phone=world.residents[0].phone)
    assert not Parcel.objects.filter(tracking_number=number).exists()

    response = client.post(
        reverse("stocktake:resolve", args=[take.pk]),
        {
            "number": number,
            "action": A.TAKE_IN,
            "phone_last4": "5678",
            "flat": "3-2-501",
            "carrier": "yunda",
        },
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    parcel = Parcel.objects.get(tracking_number=number)
    assert parcel.carrier.code == "yunda" and parcel.state == ParcelState.AT_POINT
    assert_custody_ok(world)


def test_a_scan_without_htmx_comes_back_to_a_page_that_says_what_it_found(world, client):
    """A scanner fires before the page's script has run (or there is none): the plain form's
    answer is the session page, showing the scan's line as the live panel would."""
    from django.urls import reverse

    from tests.factories import make_clerk

    on_shelf = services.intake(
        world.counter, tracking(), actor=world.clerk, phone=world.residents[0].phone
    ).parcel
    take = st.start(world.counter, actor=world.clerk)
    client.force_login(make_clerk(world))
    response = client.post(
        reverse("stocktake:scan", args=[take.pk]), {"number": on_shelf.tracking_number}
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="last"' in page and on_shelf.tracking_number in page
    # A number this stocktake never scanned, put in the address by hand, shows nothing.
    other = client.get(reverse("stocktake:session", args=[take.pk]) + "?last=SF0000000000000")
    assert 'data-testid="last"' not in other.content.decode()
