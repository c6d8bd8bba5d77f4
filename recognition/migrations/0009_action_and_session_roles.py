"""Staff roles: editors and publishers record actions and sessions (see recognition/roles.py).

Frozen lists, as a migration must have; tests/test_staff.py checks the groups match roles.py.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ADDED = [
    "view_action",
    "add_action",
    "change_action",
    "delete_action",
    "view_legislativesession",
    "add_legislativesession",
    "change_legislativesession",
]
GROUPS = ["Editors", "Publishers"]


def _permissions(apps, schema_editor):
    # Permissions are normally created after all migrations (post_migrate); create this app's now.
    app_config = apps.get_app_config("recognition")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.using(schema_editor.connection.alias).filter(
        content_type__app_label="recognition", codename__in=ADDED
    )
    if permissions.count() != len(ADDED):
        raise RuntimeError("a permission named here does not exist")
    return permissions


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    permissions = list(_permissions(apps, schema_editor))
    for group in Group.objects.using(schema_editor.connection.alias).filter(name__in=GROUPS):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.using(schema_editor.connection.alias).filter(
        content_type__app_label="recognition", codename__in=ADDED
    )
    for group in Group.objects.using(schema_editor.connection.alias).filter(name__in=GROUPS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [("recognition", "0008_legislative_progress")]

    operations = [migrations.RunPython(grant, revoke)]
