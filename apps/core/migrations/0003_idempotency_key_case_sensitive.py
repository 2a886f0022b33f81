from django.db import migrations


def key_collation_binary(apps, schema_editor):
    # MariaDB's default collation folds case, accents and trailing spaces, which would make "abc" and
    # "ABC" the same Idempotency-Key. SQLite compares bytes already.
    connection = schema_editor.connection
    if connection.vendor == "mysql":
        # NO PAD binary collations: MariaDB's utf8mb4_nopad_bin, MySQL 8's utf8mb4_0900_bin.
        collation = "utf8mb4_nopad_bin" if connection.mysql_is_mariadb else "utf8mb4_0900_bin"
        schema_editor.execute(
            f"ALTER TABLE core_idempotencykey MODIFY `key` varchar(255) CHARACTER SET utf8mb4 COLLATE {collation} NOT NULL"
        )


def key_collation_default(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute(
            "ALTER TABLE core_idempotencykey MODIFY `key` varchar(255) CHARACTER SET utf8mb4 NOT NULL"
        )


class Migration(migrations.Migration):
    atomic = False  # MySQL cannot run DDL inside a transaction

    dependencies = [("core", "0002_auditevent")]

    operations = [migrations.RunPython(key_collation_binary, key_collation_default)]
