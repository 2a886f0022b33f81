from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"

    def ready(self) -> None:
        from apps.accounts.roles import staff_group_grant_permissions

        # Permissions exist only after every app has migrated, so the grant runs post_migrate.
        post_migrate.connect(staff_group_grant_permissions, dispatch_uid="accounts.staff_group_permissions")
