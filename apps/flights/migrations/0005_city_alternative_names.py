from django.db import migrations, models

# The names travellers still use for renamed Indian cities (apps/flights/places.py matches them);
# staff edit them in the admin. Only cities already in the catalogue, and only when nothing is set.
KNOWN_ALTERNATIVE_NAMES = {
    ("Mumbai", "IN"): "Bombay",
    ("Bengaluru", "IN"): "Bangalore",
    ("Kolkata", "IN"): "Calcutta",
    ("Chennai", "IN"): "Madras",
    ("Delhi", "IN"): "New Delhi",
    ("Kochi", "IN"): "Cochin",
    ("Thiruvananthapuram", "IN"): "Trivandrum",
    ("Pune", "IN"): "Poona",
}


def fill_known_alternative_names(apps, schema_editor):
    City = apps.get_model("flights", "City")
    for (name, country), alternatives in KNOWN_ALTERNATIVE_NAMES.items():
        City.objects.filter(name=name, country=country, alternative_names="").update(
            alternative_names=alternatives
        )


class Migration(migrations.Migration):
    dependencies = [
        ("flights", "0004_flight_cancellation_reason"),
    ]

    operations = [
        migrations.AddField(
            model_name="city",
            name="alternative_names",
            field=models.TextField(
                blank=True,
                default="",
                help_text="Other names travellers search by (former or local names such as Bombay), one per line.",
            ),
        ),
        migrations.RunPython(fill_known_alternative_names, migrations.RunPython.noop),
    ]
