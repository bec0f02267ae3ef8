"""The counter's pages through Django's test client: each flow, and bad input writing nothing."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.urls import reverse

from jianjian.communities.models import PickupProxy
from jianjian.communities.qr import make_token
from jianjian.parcels import services
from jianjian.parcels.fold import check
from jianjian.parcels.matching import RecipientInfo
from jianjian.parcels.models import CustodyEvent, EventKind, Parcel, ParcelState
from jianjian.points.models import PointDay
from tests.factories import World, make_world, tracking
from tests.web.conftest import make_clerk

HX = {"HTTP_HX_REQUEST": "true"}


def _url(name: str, world: World, *args) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"counter:{name}", args=[world.counter.pk, *args])


def _announced(world: World, resident: int = 0) -> str:
    number = tracking()
    services.announce(
        world.community,
        number,
        actor=services.Actor.system("test"),
        recipient=RecipientInfo(resident=world.residents[resident]),
    )
    return number


def _taken_in(world: World, resident: int = 0) -> Parcel:
    return services.intake(
        world.counter, tracking(), actor=world.clerk, phone=world.residents[resident].phone
    ).parcel


def _clean(world: World) -> None:
    assert check(world.community.pk).problems == []


# --- sign-in and landing -------------------------------------------------------------------


def test_sign_in_lands_a_one_point_clerk_on_their_counter(client, world):
    user = make_clerk(world)
    user.set_password("a-long-password")
    user.save()
    response = client.post(
        reverse("login"), {"username": user.username, "password": "a-long-password"}, follow=True
    )
    assert response.redirect_chain[-1][0] == _url("intake", world)
    assert world.counter.name in response.content.decode()


def test_clerk_with_several_points_picks_one(client, world):
    client.force_login(make_clerk(world, world.counter, world.counter2))
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("counter:choose")
    page = response.content.decode()
    assert world.counter.name in page and world.counter2.name in page


def test_wrong_password_is_refused_with_a_message(client, world):
    user = make_clerk(world)
    response = client.post(reverse("login"), {"username": user.username, "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_anonymous_is_sent_to_sign_in_and_other_points_do_not_exist(client, world):
    response = client.get(_url("intake", world))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    client.force_login(make_clerk(world))
    assert client.get(reverse("counter:intake", args=[world.counter2.pk])).status_code == 404
    other = make_world()
    assert client.get(reverse("counter:pickup", args=[other.counter.pk])).status_code == 404


# --- intake --------------------------------------------------------------------------------


def test_scan_of_pre_advised_parcel_takes_it_in_and_queues_its_label(clerk_client, world):
    number = _announced(world)
    response = clerk_client.post(_url("scan", world), {"number": number}, **HX)
    page = response.content.decode()
    parcel = Parcel.objects.get(tracking_number=number)
    assert parcel.state == ParcelState.AT_POINT
    assert 'data-outcome="taken"' in page
    assert parcel.pickup_code in page and parcel.slot.label in page
    assert "张*" in page
    assert clerk_client.session[f"jianjian.labels.{world.counter.pk}"] == [parcel.pk]
    labels = clerk_client.get(_url("labels", world) + "?layout=a4")
    assert labels["Content-Type"] == "application/pdf" and labels.content.startswith(b"%PDF")
    _clean(world)


def test_unknown_parcel_asks_for_recipient_then_last4_and_flat_complete_it(clerk_client, world):
    number = tracking()
    first = clerk_client.post(_url("scan", world), {"number": number}, **HX).content.decode()
    assert 'data-outcome="recipient"' in first
    assert not Parcel.objects.filter(tracking_number=number).exists()
    done = clerk_client.post(
        _url("scan", world), {"number": number, "last4": "5678", "flat": "3-2-501"}, **HX
    ).content.decode()
    assert 'data-outcome="taken"' in done
    parcel = Parcel.objects.get(tracking_number=number)
    assert parcel.recipient == world.residents[0]
    _clean(world)


def test_bad_flat_keeps_the_form_open_with_a_message_and_writes_nothing(clerk_client, world):
    number = tracking()
    page = clerk_client.post(
        _url("scan", world), {"number": number, "last4": "5678", "flat": "9-9-999"}, **HX
    ).content.decode()
    assert 'data-outcome="recipient"' in page
    assert "9-9-999" in page and 'role="alert"' in page
    assert not Parcel.objects.filter(tracking_number=number).exists()
    assert CustodyEvent.objects.filter(community=world.community).count() == 0


def test_duplicate_scan_shows_the_parcel_already_there(clerk_client, world):
    parcel = _taken_in(world)
    page = clerk_client.post(
        _url("scan", world), {"number": parcel.tracking_number}, **HX
    ).content.decode()
    assert 'data-outcome="duplicate"' in page and parcel.pickup_code in page
    assert CustodyEvent.objects.filter(parcel=parcel).count() == 1


def test_at_capacity_intake_is_refused_until_a_reason_is_given(clerk_client, world):
    world.counter.daily_capacity = 1
    world.counter.save()
    _taken_in(world)
    number = _announced(world)
    refused = clerk_client.post(_url("scan", world), {"number": number}, **HX).content.decode()
    assert 'data-outcome="capacity"' in refused and "1" in refused
    assert Parcel.objects.get(tracking_number=number).state == ParcelState.ANNOUNCED
    taken = clerk_client.post(
        _url("scan", world), {"number": number, "override_reason": "resident waiting"}, **HX
    ).content.decode()
    assert 'data-outcome="taken"' in taken
    event = CustodyEvent.objects.get(parcel__tracking_number=number, kind=EventKind.INTAKE)
    assert event.data["override_reason"] == "resident waiting"
    assert PointDay.objects.get(point=world.counter).overrides == 1


def test_malformed_number_gets_a_clear_error_and_writes_nothing(clerk_client, world):
    page = clerk_client.post(_url("scan", world), {"number": "!!"}, **HX).content.decode()
    assert 'data-outcome="error"' in page
    assert Parcel.objects.filter(community=world.community).count() == 0


def test_suggestions_offer_the_flats_of_residents_with_that_phone_tail(clerk_client, world):
    page = clerk_client.get(_url("suggest", world), {"last4": "5678"}).content.decode()
    assert 'value="3-2-501"' in page and 'value="3-2-502"' in page
    assert "3-2-601" not in page


def test_plain_post_without_javascript_renders_the_whole_page(clerk_client, world):
    number = _announced(world)
    page = clerk_client.post(_url("scan", world), {"number": number}).content.decode()
    assert "<html" in page and 'data-outcome="taken"' in page
    assert page.count('id="capacity"') == 1


# --- pickup --------------------------------------------------------------------------------


def test_pickup_by_code_lists_all_the_residents_parcels_and_hands_them_over(clerk_client, world):
    mine = [_taken_in(world), _taken_in(world)]
    other = _taken_in(world, resident=1)
    page = clerk_client.post(
        _url("lookup", world), {"q": mine[0].pickup_code.lower()}, **HX
    ).content.decode()
    for parcel in mine:
        assert parcel.pickup_code in page
    assert other.pickup_code not in page
    done = clerk_client.post(
        _url("hand_over", world), {"parcel": [p.pk for p in mine], "method": "code"}, **HX
    ).content.decode()
    assert 'data-outcome="handed"' in done
    states = set(Parcel.objects.filter(pk__in=[p.pk for p in mine]).values_list("state", flat=True))
    assert states == {ParcelState.PICKED_UP}
    _clean(world)


def test_pickup_by_phone_tail_and_by_qr(clerk_client, world):
    parcel = _taken_in(world, resident=2)
    by_tail = clerk_client.post(_url("lookup", world), {"q": "1111"}, **HX).content.decode()
    assert parcel.pickup_code in by_tail
    token = make_token(world.residents[2].pk, world.community.pk)
    by_qr = clerk_client.post(_url("lookup", world), {"q": token}, **HX).content.decode()
    assert parcel.pickup_code in by_qr and 'value="qr"' in by_qr


def test_wrong_or_expired_codes_get_a_message_and_hand_nothing_over(clerk_client, world):
    parcel = _taken_in(world)
    wrong = clerk_client.post(_url("lookup", world), {"q": "A9-9-999"}, **HX).content.decode()
    assert 'data-outcome="error"' in wrong and "A9-9-999" in wrong
    token = make_token(world.residents[0].pk, world.community.pk)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    import time_machine

    with time_machine.travel(later):
        expired = clerk_client.post(_url("lookup", world), {"q": token}, **HX).content.decode()
    assert 'data-outcome="error"' in expired
    forged = clerk_client.post(_url("lookup", world), {"q": token[:-3] + "xyz"}, **HX)
    assert 'data-outcome="error"' in forged.content.decode()
    parcel.refresh_from_db()
    assert parcel.state == ParcelState.AT_POINT


def test_hand_over_of_another_points_parcel_is_refused(clerk_client, world):
    elsewhere = services.intake(
        world.counter2, tracking(), actor=world.clerk, phone=world.residents[0].phone
    ).parcel
    page = clerk_client.post(
        _url("hand_over", world), {"parcel": [elsewhere.pk]}, **HX
    ).content.decode()
    assert 'role="alert"' in page
    elsewhere.refresh_from_db()
    assert elsewhere.state == ParcelState.AT_POINT


def test_proxy_found_by_phone_tail_collects_and_the_record_says_so(clerk_client, world):
    parcel = _taken_in(world)
    proxy = PickupProxy.objects.create(
        community=world.community,
        resident=world.residents[0],
        phone="13600009999",
        name="小王",
        valid_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    )
    page = clerk_client.post(_url("lookup", world), {"q": "9999"}, **HX).content.decode()
    assert parcel.pickup_code in page and f'name="proxy" value="{proxy.pk}"' in page
    clerk_client.post(
        _url("hand_over", world),
        {"parcel": [parcel.pk], "proxy": proxy.pk, "method": "phone_tail"},
        **HX,
    )
    event = CustodyEvent.objects.get(parcel=parcel, kind=EventKind.HAND_OVER)
    assert event.data["proxy_id"] == proxy.pk and "小王" in event.holder


def test_proxy_qr_lists_what_the_proxy_may_collect_and_hands_over_with_the_proxy(
    clerk_client, world
):
    from jianjian.residents.pickup import make_proxy_token

    first, second = _taken_in(world), _taken_in(world)
    proxy = PickupProxy.objects.create(
        community=world.community,
        resident=world.residents[0],
        phone="13600009999",
        name="小王",
        parcel=second,
        valid_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    )
    token = make_proxy_token(proxy)
    page = clerk_client.post(_url("lookup", world), {"q": token}, **HX).content.decode()
    assert second.pickup_code in page and first.pickup_code not in page
    assert f'name="proxy" value="{proxy.pk}"' in page and 'value="qr"' in page
    done = clerk_client.post(
        _url("hand_over", world),
        {"parcel": [second.pk], "proxy": proxy.pk, "method": "qr", "q": token},
        **HX,
    ).content.decode()
    assert 'data-outcome="handed"' in done
    event = CustodyEvent.objects.get(parcel=second, kind=EventKind.HAND_OVER)
    assert event.data["proxy_id"] == proxy.pk and "小王" in event.holder
    assert event.method == "qr"
    first.refresh_from_db()
    assert first.state == ParcelState.AT_POINT
    _clean(world)


def test_revoked_proxy_qr_gets_a_message_and_hands_nothing_over(clerk_client, world):
    from jianjian.residents import proxies
    from jianjian.residents.pickup import make_proxy_token

    parcel = _taken_in(world)
    proxy = proxies.grant(world.residents[0], phone="13600009999", days=2)
    token = make_proxy_token(proxy)
    proxies.revoke(proxy)
    page = clerk_client.post(
        _url("lookup", world), {"q": token}, HTTP_ACCEPT_LANGUAGE="en", **HX
    ).content.decode()
    assert 'data-outcome="error"' in page and "revoked" in page
    assert parcel.pickup_code not in page
    # A hand-over form kept open from before the revocation is refused by the services too.
    again = clerk_client.post(
        _url("hand_over", world),
        {"parcel": [parcel.pk], "proxy": proxy.pk, "method": "qr", "q": token},
        **HX,
    ).content.decode()
    assert 'role="alert"' in again and 'data-outcome="handed"' not in again
    parcel.refresh_from_db()
    assert parcel.state == ParcelState.AT_POINT


def test_clerk_names_a_proxy_by_phone_and_an_unknown_phone_hands_nothing_over(clerk_client, world):
    parcel = _taken_in(world)
    PickupProxy.objects.create(
        community=world.community,
        resident=world.residents[0],
        phone="13600009999",
        valid_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    )
    refused = clerk_client.post(
        _url("hand_over", world),
        {"parcel": [parcel.pk], "proxy_phone": "13600001234", "q": parcel.pickup_code},
        **HX,
    ).content.decode()
    assert 'role="alert"' in refused
    parcel.refresh_from_db()
    assert parcel.state == ParcelState.AT_POINT
    clerk_client.post(
        _url("hand_over", world), {"parcel": [parcel.pk], "proxy_phone": "136 0000 9999"}, **HX
    )
    parcel.refresh_from_db()
    assert parcel.state == ParcelState.PICKED_UP
    assert CustodyEvent.objects.get(parcel=parcel, kind=EventKind.HAND_OVER).data["proxy_id"]


# --- returns, on hand, detail --------------------------------------------------------------


def _dead(world: World, carrier: str = "sf") -> Parcel:
    import time_machine

    with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(days=10)):
        return services.intake(
            world.counter, tracking(carrier), actor=world.clerk, phone=world.residents[0].phone
        ).parcel


def _serving(world: World) -> None:
    for courier in (world.sf_courier, world.zto_courier):
        courier.communities.add(world.community)


def test_returns_lists_dead_parcels_by_carrier_and_scans_them_out(clerk_client, world):
    _serving(world)
    dead_sf, dead_zto, fresh = _dead(world, "sf"), _dead(world, "zto"), _taken_in(world)
    page = clerk_client.get(_url("returns", world)).content.decode()
    assert dead_sf.tracking_number in page and dead_zto.tracking_number in page
    assert fresh.tracking_number not in page
    wrong = clerk_client.post(
        _url("return_scan", world),
        {"courier": world.zto_courier.pk, "reason": "dead", "number": dead_sf.tracking_number},
        **HX,
    ).content.decode()
    assert 'data-outcome="error"' in wrong
    done = clerk_client.post(
        _url("return_scan", world),
        {"courier": world.sf_courier.pk, "reason": "dead", "number": dead_sf.tracking_number},
        **HX,
    ).content.decode()
    assert 'data-outcome="returned"' in done
    assert world.sf_courier.name in done
    dead_sf.refresh_from_db()
    assert dead_sf.state == ParcelState.RETURNED and dead_sf.returned_to == world.sf_courier
    _clean(world)


def test_refused_parcel_is_scanned_out_with_its_reason(clerk_client, world):
    _serving(world)
    parcel = _taken_in(world)
    clerk_client.post(
        _url("return_scan", world),
        {"courier": world.sf_courier.pk, "reason": "refused", "number": parcel.tracking_number},
        **HX,
    )
    event = CustodyEvent.objects.get(parcel=parcel, kind=EventKind.RETURN)
    assert event.data == {"reason": "refused"}


def test_a_courier_not_serving_the_community_cannot_collect(clerk_client, world):
    parcel = _dead(world)
    page = clerk_client.post(
        _url("return_scan", world),
        {"courier": world.sf_courier.pk, "reason": "dead", "number": parcel.tracking_number},
        **HX,
    ).content.decode()
    assert 'data-outcome="error"' in page
    parcel.refresh_from_db()
    assert parcel.state == ParcelState.AT_POINT


def test_on_hand_list_filters_and_marks_overdue(clerk_client, world):
    old = _dead(world)
    fresh = _taken_in(world, resident=1)
    page = clerk_client.get(_url("parcels", world)).content.decode()
    assert old.pickup_code in page and fresh.pickup_code in page
    overdue = clerk_client.get(_url("parcels", world), {"overdue": "on"}).content.decode()
    assert old.pickup_code in overdue and fresh.pickup_code not in overdue
    by_flat = clerk_client.get(_url("parcels", world), {"flat": "3-2-502"}).content.decode()
    assert fresh.pickup_code in by_flat and old.pickup_code not in by_flat
    bad = clerk_client.get(_url("parcels", world), {"flat": "nonsense"}).content.decode()
    assert 'role="alert"' in bad


def test_parcel_detail_shows_the_whole_custody_trail(clerk_client, world):
    parcel = _taken_in(world)
    services.hand_over(world.counter, [parcel], actor=world.clerk)
    page = clerk_client.get(_url("parcel", world, parcel.pk)).content.decode()
    assert 'data-kind="intake"' in page and 'data-kind="hand_over"' in page


def test_parcel_of_another_point_is_not_found(clerk_client, world):
    elsewhere = services.intake(
        world.counter2, tracking(), actor=world.clerk, phone=world.residents[0].phone
    ).parcel
    assert clerk_client.get(_url("parcel", world, elsewhere.pk)).status_code == 404
    assert clerk_client.get(_url("label", world, elsewhere.pk)).status_code == 404


def test_superuser_without_membership_sees_the_point_picker(client, world):
    admin = get_user_model().objects.create_superuser("root", password="x" * 12)
    client.force_login(admin)
    assert client.get("/")["Location"] == reverse("counter:choose")
