"""Staff roles: the Editors and Publishers groups with their permissions (see recognition/roles.py).

The lists are frozen here, as a migration must be; tests/test_staff.py checks they match roles.py.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITOR_PERMISSIONS = [
    "view_resolution",
    "add_resolution",
    "change_resolution",
    "view_source",
    "add_source",
    "change_source",
    "delete_source",
    "view_jurisdiction",
    "add_jurisdiction",
    "change_jurisdiction",
    "view_submission",
    "change_submission",
]
ROLES = {
    "Editors": EDITOR_PERMISSIONS,
    "Publishers": [*EDITOR_PERMISSIONS, "publish_resolution"],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations (post_migrate); create this app's now.
    app_config = apps.get_app_config("recognition")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _created = Group.objects.using(schema_editor.connection.alias).get_or_create(name=name)
        permissions = Permission.objects.using(schema_editor.connection.alias).filter(
            content_type__app_label="recognition", codename__in=codenames
        )
        if permissions.count() != len(codenames):
            raise RuntimeError(f"{name}: a permission it names does not exist")
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("recognition", "0002_history_submissions_publish_permission"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
