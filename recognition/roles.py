"""Staff roles: two groups of permissions.

- **Editors** enter and correct drafts (including removing a wrong source from a draft), add places and
  districts, and moderate public submissions.
  They see everything but cannot publish, and cannot change a record once it is published
  (the public sees only what a publisher has checked).
- **Publishers** can do all that, and publish and unpublish (`recognition.publish_resolution`).

Superusers can do everything. A staff account needs "Staff status" to sign in to the admin, and one of
these groups for what it may do there.

Migration 0003_staff_roles creates the groups with a frozen copy of these lists (0009 adds the
permissions on actions and sessions) (a migration must not
follow later code); a test checks the two agree. `sync_roles()` puts the groups back as defined here,
e.g. after a browser test has flushed the database.
"""

from django.apps import apps as global_apps

EDITORS = "Editors"
PUBLISHERS = "Publishers"
PUBLISH_PERMISSION = "recognition.publish_resolution"

EDITOR_PERMISSIONS = (
    "recognition.view_resolution",
    "recognition.add_resolution",
    "recognition.change_resolution",
    "recognition.view_source",
    "recognition.add_source",
    "recognition.change_source",
    "recognition.delete_source",  # a wrong link on a draft; the inline refuses it on a published record
    "recognition.view_action",
    "recognition.add_action",
    "recognition.change_action",
    "recognition.delete_action",  # as for sources: on drafts only
    "recognition.view_legislativesession",
    "recognition.add_legislativesession",
    "recognition.change_legislativesession",
    "recognition.view_jurisdiction",
    "recognition.add_jurisdiction",
    "recognition.change_jurisdiction",
    "recognition.view_submission",
    "recognition.change_submission",
)
PUBLISHER_PERMISSIONS = (*EDITOR_PERMISSIONS, PUBLISH_PERMISSION)

ROLES = {EDITORS: EDITOR_PERMISSIONS, PUBLISHERS: PUBLISHER_PERMISSIONS}


def can_publish(user):
    """Publishers and superusers."""
    return user.has_perm(PUBLISH_PERMISSION)


def sync_roles():
    """Create the groups if needed and give each exactly its permissions (e.g. after a test flushed them)."""
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    for name, codes in ROLES.items():
        permissions = [
            Permission.objects.get(content_type__app_label=code.split(".")[0], codename=code.split(".")[1])
            for code in codes
        ]
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)
