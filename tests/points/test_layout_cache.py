"""A scan takes the point's slots from its process's memory while the point's layout version
is unchanged; the database raises that version on any change to the point's slots, by any path,
so a scan never files a parcel on a shelf that is gone."""

from __future__ import annotations

from django.db import connection

from jianjian import triggers
from jianjian.parcels import services
from jianjian.points import layout_triggers
from jianjian.points.models import CollectionPoint, Slot
from jianjian.points.slots import lay_out
from tests.factories import tracking


def _version(point: CollectionPoint) -> int:
    return CollectionPoint.objects.get(pk=point.pk).layout_version


def _scan(world):  # type: ignore[no-untyped-def]
    return services.intake(world.counter, tracking(), actor=world.clerk, phone="13812345678").parcel


def _scan_slot(world) -> Slot:  # type: ignore[no-untyped-def]
    slot = _scan(world).slot
    assert slot is not None
    return slot


def test_the_triggers_are_in_place_after_every_migration(db):
    expected = {t.name for t in layout_triggers.TRIGGERS}
    assert triggers.installed(connection, layout_triggers.TRIGGERS) == expected


def test_any_change_to_a_points_slots_raises_its_version_and_no_other_points(world):
    counter, locker = world.counter, world.locker
    before, other = _version(counter), _version(locker)
    Slot.objects.create(community=world.community, point=counter, shelf=9, tier=1)
    after_insert = _version(counter)
    Slot.objects.filter(point=counter, shelf=9).update(size="L")
    after_update = _version(counter)
    Slot.objects.filter(point=counter, shelf=9).delete()
    after_delete = _version(counter)
    assert before < after_insert < after_update < after_delete
    assert _version(locker) == other
    # The scan's own writes to the point (its counts) are not a layout change.
    _scan_slot(world)
    assert _version(counter) == after_delete


def test_a_point_laid_out_anew_gets_its_parcels_on_the_new_shelves(world):
    parcel = _scan(world)  # the process now holds the counter's slots
    services.hand_over(world.counter, [parcel], actor=world.clerk)  # the old shelves are empty
    lay_out(world.counter, {(7, 1): "M", (7, 2): "M"}, compartments=False)
    world.counter.refresh_from_db()
    shelves = {_scan_slot(world).label for _ in range(4)}
    assert shelves == {
        s.label for s in Slot.objects.filter(point=world.counter, active=True, shelf=7)
    }


def test_a_shelf_switched_off_by_hand_is_not_used_again(world):
    """A bulk update (the Django admin, a shell) bypasses every save(): the trigger still sees
    it."""
    first = _scan_slot(world)
    others = Slot.objects.filter(point=world.counter, active=True).exclude(pk=first.pk)
    Slot.objects.filter(pk=first.pk).update(active=False)
    used = {_scan_slot(world).pk for _ in range(2 * others.count())}
    assert first.pk not in used
    assert used == set(others.values_list("pk", flat=True))
