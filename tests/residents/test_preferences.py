"""The resident's notification channels: what is offered, what is refused, and that the outbox
then writes to where the resident chose."""

from __future__ import annotations

import pytest

from jianjian.notify.models import Notification, ResidentPreference
from tests.residents.conftest import arrive

URL = "/me/preferences/"


def _post(client, **data):  # type: ignore[no-untyped-def]
    form = {"language": "zh-hans", **data}
    return client.post(URL, form, HTTP_ACCEPT_LANGUAGE="en")


def test_page_offers_sms_email_and_in_a_test_installation_the_log(world, resident_client):
    page = resident_client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'value="sms"' in page and 'value="email"' in page and 'value="log"' in page
    # No preference yet: the installation's default (the log here) is what is ticked.
    assert 'value="log" id="id_channels_2" checked' in page
    assert 'value="wecom"' not in page


def test_chosen_channels_are_saved_and_the_next_parcel_is_told_there(world, resident_client):
    response = _post(resident_client, channels=["sms", "email"], email="wang@example.org")
    assert response.status_code == 302
    pref = ResidentPreference.objects.get(resident=world.residents[0])
    assert pref.channel_list() == ["sms", "email"] and pref.email == "wang@example.org"
    page = resident_client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'value="email" id="id_channels_1" checked' in page and "wang@example.org" in page
    parcel = arrive(world)
    sent = set(Notification.objects.filter(parcel=parcel).values_list("channel", "address"))
    assert ("email", "wang@example.org") in sent
    assert ("sms", world.residents[0].phone) in sent
    assert not any(channel == "log" for channel, _ in sent)


def test_language_of_the_messages_is_saved(world, resident_client):
    _post(resident_client, channels=["sms"], language="en")
    assert ResidentPreference.objects.get(resident=world.residents[0]).language == "en"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"channels": []}, "Choose at least one way to be told about your parcels."),
        ({"channels": ["email"]}, "Enter the email address to write to."),
        ({"channels": ["email"], "email": "not-an-address"}, "Enter a valid email address."),
        ({"channels": ["wecom"]}, "wecom is not a channel this community offers."),
        ({"channels": ["sms"], "language": "fr"}, "Select a valid choice."),
    ],
    ids=["none", "email_without_address", "bad_address", "robot_channel", "language"],
)
def test_bad_choice_gets_a_clear_error_and_writes_nothing(world, resident_client, data, message):
    response = _post(resident_client, **data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ResidentPreference.objects.exists()


def test_log_is_not_offered_when_the_installation_sends_real_messages(
    world, resident_client, settings
):
    settings.NOTIFY_DEFAULT_CHANNEL = "sms"
    settings.DEBUG = False
    page = resident_client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'value="sms"' in page and 'value="log"' not in page
    response = _post(resident_client, channels=["log"])
    assert "log is not a channel this community offers." in response.content.decode()
    assert not ResidentPreference.objects.exists()


def test_errors_are_in_chinese_by_default(world, resident_client):
    response = resident_client.post(URL, {"channels": ["email"], "language": "zh-hans"})
    assert "请填写" in response.content.decode()
    assert not ResidentPreference.objects.exists()


def test_proxy_only_phone_has_no_preferences_to_set(world):
    from django.test import Client

    from jianjian.residents import proxies
    from tests.residents.conftest import sign_in

    proxies.grant(world.residents[0], phone="13700001234", days=3)
    client = Client()
    sign_in(client, "13700001234")
    response = client.post(URL, {"channels": ["sms"], "language": "en"})
    assert response.status_code == 200
    assert not ResidentPreference.objects.exists()
