"""Behind our own reverse proxies, per-address limits count per visitor, not per proxy."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from jianjian.ops.forwarded import visitor_address
from jianjian.residents.models import SignInCode

PROXY = "10.0.0.2"  # the nginx in front, as granian sees it


@pytest.mark.parametrize(
    ("header", "hops", "expected"),
    [
        ("203.0.113.7", 1, "203.0.113.7"),
        # What the client wrote itself, left of what our proxy appended, is not believed.
        ("6.6.6.6, 203.0.113.7", 1, "203.0.113.7"),
        ("6.6.6.6, 203.0.113.7, 10.0.0.9", 2, "203.0.113.7"),
        (" 2001:db8::1 ", 1, "2001:db8::1"),
        ("", 1, None),  # came past the proxy: keep the peer's address
        ("203.0.113.7", 2, None),
        ("not-an-address", 1, None),
        ("203.0.113.7", 0, None),
    ],
)
def test_the_visitor_is_the_address_our_outermost_proxy_saw(header, hops, expected):
    assert visitor_address(header, hops) == expected


def _ask_code(phone: str, forwarded_for: str) -> None:
    client = Client(REMOTE_ADDR=PROXY)
    response = client.post("/me/signin/", {"phone": phone}, HTTP_X_FORWARDED_FOR=forwarded_for)
    assert response.status_code == 302


def test_behind_a_proxy_the_sign_in_throttle_sees_each_visitor(world, settings):
    settings.PROXY_COUNT = 1
    _ask_code(world.residents[0].phone, "6.6.6.6, 203.0.113.7")
    _ask_code(world.residents[1].phone, "198.51.100.4")
    assert list(SignInCode.objects.order_by("pk").values_list("ip", flat=True)) == [
        "203.0.113.7",
        "198.51.100.4",
    ]


def test_served_directly_a_forwarded_header_is_ignored(world, settings):
    """Without proxies of ours, X-Forwarded-For is whatever the client wants it to be."""
    settings.PROXY_COUNT = 0
    _ask_code(world.residents[0].phone, "203.0.113.7")
    assert SignInCode.objects.get().ip == PROXY


def test_behind_a_proxy_a_staff_lockout_locks_only_that_visitor(db, settings):
    settings.PROXY_COUNT = 1
    get_user_model().objects.create_user("clerk", password="right-password-1")
    attacker = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.66")
    for _ in range(5):
        attacker.post("/login/", {"username": "clerk", "password": "wrong"})
    assert attacker.post("/login/", {"username": "clerk", "password": "x"}).status_code == 429
    clerk = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.4")
    ok = clerk.post("/login/", {"username": "clerk", "password": "right-password-1"})
    assert ok.status_code == 302
