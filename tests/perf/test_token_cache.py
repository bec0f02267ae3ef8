"""API tokens are kept in each process's memory, yet a token revoked or changed anywhere is
refused or re-read on its very next request, in every process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jianjian.couriers.models import ApiToken
from tests.factories import tracking

pytestmark = pytest.mark.django_db


def _scan(api):  # type: ignore[no-untyped-def]
    body = {"point_id": api.world.counter.pk, "tracking_number": tracking(), "phone": "13812345678"}
    return api.clerk.post("/parcels/intake", body)


def _token(api) -> ApiToken:  # type: ignore[no-untyped-def]
    return ApiToken.objects.get(name="clerk")


def test_a_known_token_costs_one_read_of_its_row(api):
    assert _scan(api).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        assert _scan(api).status_code == 200
    reads = [q["sql"] for q in ctx.captured_queries if "apitoken" in q["sql"].lower()]
    assert len(reads) == 1, reads


def test_a_token_revoked_behind_this_process_is_refused_at_once(api):
    assert _scan(api).status_code == 200
    # A plain UPDATE: nothing in this process hears of it, as with a revocation by another one.
    ApiToken.objects.filter(pk=_token(api).pk).update(active=False)
    assert _scan(api).status_code == 401


def test_a_token_made_read_only_or_whose_user_is_disabled_is_refused_at_once(api):
    assert _scan(api).status_code == 200
    ApiToken.objects.filter(pk=_token(api).pk).update(can_write=False)
    refused = _scan(api)
    assert refused.status_code == 403 and refused.json()["code"] == "read_only"
    ApiToken.objects.filter(pk=_token(api).pk).update(can_write=True)
    assert _scan(api).status_code == 200
    type(_token(api).user).objects.filter(pk=_token(api).user_id).update(is_active=False)
    assert _scan(api).json()["code"] == "user_inactive"


def test_a_deleted_token_is_refused(api):
    assert _scan(api).status_code == 200
    _token(api).delete()
    assert _scan(api).status_code == 401


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


REVOKE = """
import django
django.setup()
from jianjian.couriers.models import ApiToken
token = ApiToken.objects.get(pk={pk})
token.active = False
token.save()
"""


@pytest.mark.django_db(transaction=True)
def test_a_token_revoked_by_another_process_is_refused_by_this_one(api):
    assert _scan(api).status_code == 200  # this process now holds the token in memory
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "jianjian.settings",
        "JIANJIAN_DATABASE_URL": _database_url(),
    }
    code = REVOKE.format(pk=_token(api).pk)
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    assert _scan(api).status_code == 401
