"""What the migrations need of the database server, and that an older one is refused with a clear message."""

from unittest import mock

import pytest
from django.db import NotSupportedError, connection
from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLWrapper

# Migration 0014's unique index treats NULLs as equal (UNIQUE ... NULLS NOT DISTINCT), new in PostgreSQL 15.
NEEDED = (15,)


def test_django_refuses_a_server_older_than_the_migrations_need():
    """Django refuses a server older than its own minimum at the first connection (migrate, the site, any
    command that reads the data). That minimum must cover the migrations' needs: else migrate would stop
    on 0014's syntax, halfway through, instead of saying which version is needed."""
    assert PostgreSQLWrapper.features_class.minimum_database_version >= NEEDED


@pytest.mark.parametrize(("found", "refused"), [((14, 11), True), ((15, 0), False), ((17, 2), False)])
def test_an_older_postgresql_is_a_clear_error(found, refused):
    wrapper = PostgreSQLWrapper({**connection.settings_dict, "ENGINE": "django.db.backends.postgresql"}, "pg")
    with mock.patch.object(PostgreSQLWrapper, "get_database_version", return_value=found):
        if refused:
            with pytest.raises(
                NotSupportedError, match=r"PostgreSQL 15 or later is required \(found 14\.11\)"
            ):
                wrapper.check_database_version_supported()
        else:
            wrapper.check_database_version_supported()
