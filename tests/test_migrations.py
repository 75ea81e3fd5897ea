"""The committed migrations build exactly the schema the models describe."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from careapp.extensions import db


def _differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_database_matches_the_models(empty_app):
    with empty_app.app_context():
        upgrade()
        assert _differences() == []


def test_downgrade_to_base_removes_every_table(empty_app):
    with empty_app.app_context():
        upgrade()
        downgrade(revision="base")
        remaining = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()


def test_models_reject_what_the_migrated_schema_rejects(empty_app):
    """The check constraints exist in the migrated database, not only in create_all."""
    with empty_app.app_context():
        upgrade()
        constraint_names = {
            check["name"] for check in sa.inspect(db.engine).get_check_constraints("care_classes")
        }
        assert "ck_care_classes_within_national_standard" in constraint_names
