import factory
from django.contrib.auth.models import Group

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
        if create and self.is_staff and not self.is_superuser:
            self.groups.add(Group.objects.get_or_create(name=STAFF_GROUP_NAME)[0])
        if create:
            self.save()
