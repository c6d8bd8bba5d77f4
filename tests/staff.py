"""Staff accounts for tests: a user in one of the roles (recognition/roles.py), and a client signed in as them."""

from django.contrib.auth.models import Group
from django.test import Client

PASSWORD = "a-long-test-password-for-staff"


def make_user(django_user_model, username, group=None, **extra):
    """A staff user (able to sign in to the admin), in `group` when given."""
    user = django_user_model.objects.create_user(
        username, f"{username}@example.org", PASSWORD, is_staff=True, **extra
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def signed_in(user):
    """A client signed in as `user` (force_login: no password, no lockout bookkeeping)."""
    client = Client()
    client.force_login(user)
    return client
