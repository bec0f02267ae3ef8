"""A NUL character (%00) in any input gets a clear 400/422, never a server error.

PostgreSQL cannot store or compare text holding NUL; before these checks a search for ``%00``, a
path with it or a manifest row with ``\\u0000`` in a name was a 500 there (on SQLite it was
stored). These run on both databases; the point is the same answer on each.
"""

from __future__ import annotations

from jianjian.parcels.models import Parcel
from tests.api.conftest import Tokens
from tests.web.conftest import make_clerk

NUL = "\x00"


def test_api_body_fields_with_nul_are_refused_field_by_field(api: Tokens):
    w = api.world
    manifest = api.sf.post(
        "/manifests",
        {
            "community": w.community.slug,
            "parcels": [{"tracking_number": "SF1234567890123", "name": f"张{NUL}三"}],
        },
    )
    assert manifest.status_code == 422
    assert manifest.json()["errors"][0]["loc"][-3:] == ["parcels", "0", "name"]
    scan = api.clerk.post(
        "/parcels/intake",
        {"point_id": w.counter.pk, "tracking_number": f"SF12345{NUL}67890", "phone": "13812345678"},
    )
    assert scan.status_code == 422
    assert scan.json()["errors"][0]["loc"][-1] == "tracking_number"
    assert not Parcel.objects.exists()


def test_api_paths_and_queries_with_nul_get_a_json_400(api: Tokens):
    for path in ["/parcels?q=SF%00", "/drop-plans/a%00b", "/parcels?community=x%00"]:
        response = api.admin.client.get(
            "/api/v1" + path,
            HTTP_AUTHORIZATION=f"Bearer {api.admin.token}",
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert response.status_code == 400, path
        assert response.json() == {
            "code": "invalid_request",
            "message": "The request contains a NUL character; remove it and try again.",
        }


def test_a_page_form_or_search_with_nul_gets_a_400_in_the_clerks_language(client, world):
    client.force_login(make_clerk(world))
    search = client.get(f"/counter/{world.counter.pk}/parcels/?q=SF%00")
    assert search.status_code == 400
    assert search.content.decode() == "请求中含有 NUL 字符，请删除后重试。"
    scan = client.post(
        f"/counter/{world.counter.pk}/scan/",
        {"number": f"SF1234567890{NUL}", "phone": "13812345678"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert scan.status_code == 400
    assert "NUL character" in scan.content.decode()
    assert not Parcel.objects.exists()
