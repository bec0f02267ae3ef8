"""``jianjian demo``: load the demo community once and print its logins."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from jianjian.communities.demo import PASSWORD, SLUG, load_demo
from jianjian.communities.models import Community


class Command(BaseCommand):
    help = "Load the demo community (时代花园) with points, residents, couriers and parcels."

    def handle(self, *args: Any, **options: Any) -> None:
        if Community.objects.filter(slug=SLUG).exists():
            self.stdout.write("The demo community is loaded already.")
            logins = None
        else:
            logins = load_demo()
            self.stdout.write(self.style.SUCCESS("Demo community 时代花园 loaded."))
        self.stdout.write(f"Demo logins (password for all: {PASSWORD}):")
        if logins is None:
            self.stdout.write(
                "  admin (superuser), juwei, yeweihui, clerk_a, clerk_b, clerk_gate, "
                "courier_sf, courier_zto, courier_yto, courier_jd"
            )
            return
        for login in logins:
            self.stdout.write(f"  {login.username:<12} {login.role}")
