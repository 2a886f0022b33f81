import factory
from django.contrib.auth.models import Group, Permission

from apps.accounts.models import STAFF_GROUP_NAME, User

TEST_PASSWORD = "Correct-Horse-Battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"traveller{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    class Params:
        staff = factory.Trait(is_staff=True)

    @factory.post_generation
    def staff_group(self, create, extracted, **kwargs):
        """Staff join the "Airline staff" group, unless made with `staff_group=False` (no permissions)."""
        if create and self.is_staff and not self.is_superuser and extracted is not False:
            self.groups.add(Group.objects.get_or_create(name=STAFF_GROUP_NAME)[0])
        if create:
            self.save()


def with_permissions(user: User, *permissions: str) -> User:
    """`user` granted each "app_label.codename" directly, read again (Django caches permissions on
    the instance)."""
    for permission in permissions:
        app_label, codename = permission.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return User.objects.get(pk=user.pk)
