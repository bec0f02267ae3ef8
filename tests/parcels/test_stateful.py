"""Random sequences of intake / hand-over / move / return / missing / found across several points.

After every step the invariants of DESIGN.md §4 must hold, checked with the same fold as
`jianjian check`: each parcel's stored state and place equal the fold of its events, each point's
on-hand count equals what the events say, and a re-scan never adds a parcel or an event.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from jianjian.parcels import services
from jianjian.parcels.errors import ParcelError
from jianjian.parcels.fold import check
from jianjian.parcels.models import CustodyEvent, Parcel, ParcelState
from tests.factories import World, make_world, tracking

S = ParcelState


class CustodyMachine(RuleBasedStateMachine):
    numbers = Bundle("numbers")

    @initialize()
    def setup(self) -> None:
        self.world: World = make_world(capacity=10_000)
        self.model: dict[str, str] = {}  # tracking number → expected state

    def _parcel(self, number: str) -> Parcel:
        return Parcel.objects.get(community=self.world.community, tracking_number=number)

    def _point(self, index: int):  # type: ignore[no-untyped-def]
        return self.world.points[index % 2]  # the two counters: no locker-size dead ends

    @rule(target=numbers, point=st.integers(0, 1))
    def intake_new(self, point: int) -> str:
        number = tracking()
        services.intake(self._point(point), number, actor=self.world.clerk, phone="13812345678")
        self.model[number] = S.AT_POINT
        return number

    @rule(number=numbers)
    def rescan_same_point(self, number: str) -> None:
        parcel = self._parcel(number)
        if parcel.state != S.AT_POINT:
            return
        before = (Parcel.objects.count(), CustodyEvent.objects.count())
        result = services.intake(parcel.point, number, actor=self.world.clerk)
        assert result.duplicate
        assert (Parcel.objects.count(), CustodyEvent.objects.count()) == before

    @rule(number=numbers)
    def hand_over(self, number: str) -> None:
        parcel = self._parcel(number)
        self._attempt(
            number,
            S.AT_POINT,
            S.PICKED_UP,
            lambda: services.hand_over(
                parcel.point or self.world.counter, [parcel], actor=self.world.clerk
            ),
        )

    @rule(number=numbers, point=st.integers(0, 1))
    def move(self, number: str, point: int) -> None:
        parcel = self._parcel(number)
        self._attempt(
            number,
            S.AT_POINT,
            S.AT_POINT,
            lambda: services.move(parcel, to_point=self._point(point), actor=self.world.clerk),
        )

    @rule(number=numbers)
    def return_to_courier(self, number: str) -> None:
        parcel = self._parcel(number)
        self._attempt(
            number,
            S.AT_POINT,
            S.RETURNED,
            lambda: services.return_to_courier(
                parcel, courier=self.world.sf_courier, actor=self.world.clerk
            ),
        )

    @rule(number=numbers)
    def mark_missing(self, number: str) -> None:
        parcel = self._parcel(number)
        self._attempt(
            number,
            S.AT_POINT,
            S.MISSING,
            lambda: services.mark_missing(parcel, actor=self.world.clerk),
        )

    @rule(number=numbers, point=st.integers(0, 1))
    def mark_found(self, number: str, point: int) -> None:
        parcel = self._parcel(number)
        self._attempt(
            number,
            S.MISSING,
            S.AT_POINT,
            lambda: services.mark_found(parcel, point=self._point(point), actor=self.world.clerk),
        )

    @rule(number=numbers, point=st.integers(0, 1))
    def scan_again(self, number: str, point: int) -> None:
        """A later scan: re-delivers a returned parcel, finds a missing one, is a no-op where the
        parcel already is, and is refused for a picked-up parcel or one at another point."""
        current = self.model[number]
        before = self._parcel(number)
        target = self._point(point)
        try:
            result = services.intake(target, number, actor=self.world.clerk)
        except ParcelError:
            assert current == S.PICKED_UP or (
                current == S.AT_POINT and before.point_id != target.pk
            )
            return
        assert current != S.PICKED_UP
        if current == S.AT_POINT:
            assert result.duplicate and before.point_id == target.pk
        self.model[number] = S.AT_POINT

    def _attempt(self, number: str, needs: str, leads_to: str, call) -> None:  # type: ignore[no-untyped-def]
        current = self.model[number]
        try:
            call()
        except ParcelError:
            assert current != needs, f"{needs}→{leads_to} refused from the legal state {current}"
            return
        assert current == needs, f"a transition from {current} was accepted"
        self.model[number] = leads_to

    @invariant()
    def record_matches_the_fold(self) -> None:
        if not hasattr(self, "world"):
            return
        report = check(self.world.community.pk)
        assert report.problems == []
        for number, state in self.model.items():
            assert self._parcel(number).state == state


@pytest.mark.django_db
def test_custody_invariants_hold_for_random_sequences():
    CustodyMachine.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(CustodyMachine, settings=CustodyMachine.TestCase.settings)
