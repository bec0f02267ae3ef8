"""``jianjian createadmin``: a superuser, or with --community an admin of that community."""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from jianjian.communities.models import Community, Membership, StaffRole


class Command(BaseCommand):
    help = "Create an administrator (superuser, or the admin of one community)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password", help="read from the terminal when not given")
        parser.add_argument(
            "--community", help="short name: make a community admin, not a superuser"
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        username = options["username"].strip()
        if not username:
            raise CommandError("the username is empty")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"user {username!r} exists already")
        password = options["password"] or getpass.getpass("Password: ")
        if len(password) < 8:
            raise CommandError("the password must have at least 8 characters")
        if options["community"]:
            community = Community.objects.filter(slug=options["community"]).first()
            if community is None:
                raise CommandError(f"no community with short name {options['community']!r}")
            user = User.objects.create_user(username, password=password)  # no Django admin
            Membership.objects.create(user=user, community=community, role=StaffRole.ADMIN)
            self.stdout.write(f"community admin {username} of {community.name} created")
        else:
            User.objects.create_superuser(username, password=password)
            self.stdout.write(f"superuser {username} created")
