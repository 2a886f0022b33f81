from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from apps.accounts.models import STAFF_GROUP_NAME, User

DEMO_USERS = [
    # (email, name, password, is_staff)
    ("traveller@airline.example", "Demo Traveller", "fly-demo-2026", False),
    ("staff@airline.example", "Demo Staff", "staff-demo-2026", True),
]


class Command(BaseCommand):
    help = "Create a demo customer and a demo staff user (idempotent) and print their credentials."

    def handle(self, *args, **options) -> None:
        group, _ = Group.objects.get_or_create(name=STAFF_GROUP_NAME)
        for email, name, password, is_staff in DEMO_USERS:
            user, created = User.objects.get_or_create(
                email=email, defaults={"name": name, "is_staff": is_staff}
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
            if is_staff:
                user.groups.add(group)
            role = "staff (admin site and API)" if is_staff else "customer"
            self.stdout.write(f"{role}: {email} / {password}")
