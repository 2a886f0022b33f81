from django.db import migrations

STAFF_GROUP_NAME = "Airline staff"


def create_staff_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=STAFF_GROUP_NAME)


def delete_staff_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=STAFF_GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_staff_group, delete_staff_group)]
