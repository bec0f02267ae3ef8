"""``jianjian import-manifest``: imports a file, reports bad lines, refuses bad input cleanly."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from jianjian.cli import ALIASES
from jianjian.parcels.models import Parcel
from tests.factories import tracking

pytestmark = pytest.mark.django_db


def write(tmp_path, *rows: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "manifest.csv"
    path.write_text("\n".join(["运单号,手机号,房号", *rows]) + "\n", encoding="utf-8")
    return path


def test_the_verb_maps_to_the_command():
    assert ALIASES["import-manifest"] == "import_manifest"


def test_import_announces_and_allocates(world, tmp_path, capsys):
    path = write(tmp_path, f"{tracking()},13812345678,3-2-501", f"{tracking()},13912345678,")
    call_command("import_manifest", str(path), community=world.community.slug)
    out = capsys.readouterr().out
    assert "2 announced" in out and "planned 2" in out
    assert Parcel.objects.filter(state="announced", planned_point__isnull=False).count() == 2
    call_command("import_manifest", str(path), community=world.community.slug)
    assert "nothing changed" in capsys.readouterr().out


def test_bad_rows_stop_the_import_and_are_listed(world, tmp_path, capsys):
    path = write(tmp_path, f"{tracking()},13812345678,", "??,13812345678,")
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_manifest", str(path), community=world.community.slug)
    assert "line 3: tracking_number" in capsys.readouterr().err
    assert not Parcel.objects.exists()
    call_command(
        "import_manifest", str(path), community=world.community.slug, import_good_rows=True
    )
    assert Parcel.objects.count() == 1


def test_unknown_community_and_missing_file(world, tmp_path):
    with pytest.raises(CommandError, match="No community"):
        call_command("import_manifest", str(tmp_path / "x.csv"), community="nope")
    with pytest.raises(CommandError):
        call_command("import_manifest", str(tmp_path / "x.csv"), community=world.community.slug)


def test_create_api_token_prints_a_working_secret_once(world, capsys):
    from django.contrib.auth import get_user_model

    from jianjian.couriers.models import ApiToken
    from jianjian.couriers.tokens import find_token

    get_user_model().objects.create_user("tok-user")
    call_command("create_api_token", "scanner", role="clerk", user="tok-user")
    raw = capsys.readouterr().out.strip()
    token = find_token(raw)
    assert token is not None and token.role == "clerk"
    assert raw not in {t.key_hash for t in ApiToken.objects.all()}
    with pytest.raises(CommandError, match="carrier"):
        call_command("create_api_token", "feed", role="integration")
