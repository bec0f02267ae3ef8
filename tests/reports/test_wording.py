"""In Chinese reports 滞留 means overdue (a parcel waiting past its first reminder) and 停留时长
means dwell time (how long parcels waited before pickup): never the same word for both."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext

from jianjian.communities.models import Membership, StaffRole
from jianjian.reports.figures import compute
from jianjian.reports.text import render_text


def gettext_in_zh(msgid: str) -> str:
    with translation.override("zh-hans"):
        return gettext(msgid)


DWELL = ("dwell median", "dwell p90", "median wait", "Hours from intake to pickup")


def test_dwell_time_and_overdue_have_their_own_chinese_words():
    with translation.override("zh-hans"):
        for msgid in DWELL:
            assert "停留时长" in gettext(msgid) and "滞留" not in gettext(msgid), msgid
        assert "滞留" in gettext("overdue") and "停留" not in gettext("overdue")


@pytest.mark.django_db
def test_the_dashboard_headers_keep_the_words_apart(world, client):
    user = get_user_model().objects.create_user("committee-words")
    Membership.objects.create(user=user, community=world.community, role=StaffRole.COMMITTEE)
    client.force_login(user)
    html = client.get(f"/reports/{world.community.slug}/").content.decode()
    headers = re.findall(r"<th>([^<]*)</th>", html)
    assert "停留时长中位数" in headers and "停留时长 P90" in headers
    overdue = gettext_in_zh("overdue")
    assert {h for h in headers if "滞留" in h} == {overdue}  # the overdue column only


@pytest.mark.django_db
def test_the_text_report_keeps_the_words_apart(world):
    day = dt.date(2024, 5, 6)
    with translation.override("zh-hans"):
        text = render_text(compute(world.community, day, day))
    assert "停留时长中位数" in text and "滞留中位数" not in text
