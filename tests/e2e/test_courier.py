"""The courier on a phone: upload a manifest with a bad row, import the good rows, see the plan."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from jianjian.parcels.models import Parcel, ParcelState
from tests.e2e.conftest import PHONE, screenshot
from tests.factories import make_world, tracking

pytestmark = pytest.mark.browser


def _courier_user(world):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user("sf-e2e", password="a-long-password")
    world.sf_courier.user = user
    world.sf_courier.save()
    world.sf_courier.communities.add(world.community)
    return user


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_courier_uploads_a_manifest_and_reads_the_plan(page_factory, tmp_path, language):
    world = make_world(capacity=2)
    _courier_user(world)
    numbers = [tracking() for _ in range(4)]
    manifest = tmp_path / "today.csv"
    manifest.write_text(
        "运单号,手机号,房号,姓名\n"
        + "".join(f"{n},13812345678,3-2-501,张三\n" for n in numbers[:3])
        + f"{numbers[3]},12345,3-2-502,李四\n",
        encoding="utf-8",
    )
    page = page_factory(viewport=PHONE, language=language)
    page.goto("/login/?next=/courier/manifest/")
    page.fill("#id_username", "sf-e2e")
    page.fill("#id_password", "a-long-password")
    page.press("#id_password", "Enter")
    page.wait_for_url("**/courier/manifest/")
    page.set_input_files("#id_file", str(manifest))
    page.click("button[type=submit]")
    page.wait_for_selector("#errors")
    assert "12345" in page.inner_text("#errors")  # the bad phone, on its line
    screenshot(page, f"courier-manifest-errors-{language}")
    page.set_input_files("#id_file", str(manifest))
    page.check("#id_import_good_rows")
    page.click("button[type=submit]")
    page.wait_for_selector("#result.ok")
    page.click("#result a")
    page.wait_for_selector(f"#plan-{world.community.slug}")
    page.click("details.stop summary")
    assert numbers[0] in page.inner_text("details.stop")
    screenshot(page, f"courier-plan-{language}")
    # One parcel was left with a neighbour: the courier ends its pre-advice from the plan.
    page.click(f"details.stop li:has-text('{numbers[0]}') a")
    page.wait_for_selector("#end-form")
    page.check("#end-form input[value=neighbour]")
    page.fill("#end-form input[name=holder]", "502 王阿姨")
    screenshot(page, f"courier-end-preadvice-{language}")
    page.click("#end-form button[type=submit]")
    page.wait_for_url("**/courier/")
    assert numbers[0] not in page.inner_text("main")
    parcel = Parcel.objects.get(tracking_number=numbers[0])
    assert (parcel.state, parcel.collected_by) == (ParcelState.ELSEWHERE, "502 王阿姨")
