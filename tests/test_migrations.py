"""The committed migrations build exactly the schema the models describe."""

from datetime import UTC, date, datetime, time

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import desc_op

from careapp.extensions import db
from tests.conftest import make_app


def _differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_database_matches_the_models(empty_app):
    with empty_app.app_context():
        upgrade()
        assert _differences() == []


def _descending_in_models() -> dict[str, set[str]]:
    """Each model index's columns that sort descending, by index name."""
    found = {}
    for table in db.metadata.tables.values():
        for index in table.indexes:
            found[index.name] = {
                expression.element.name
                for expression in index.expressions
                if isinstance(expression, UnaryExpression) and expression.modifier is desc_op
            }
    return found


def _descending_in_database(connection, index_name: str, table_name: str) -> set[str]:
    """The migrated index's columns that sort descending (SQLite's reflection leaves the
    order out, so it is read from ``PRAGMA index_xinfo`` there)."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"PRAGMA index_xinfo('{index_name}')").mappings()
        return {row["name"] for row in rows if row["key"] and row["desc"]}
    indexes = sa.inspect(connection).get_indexes(table_name)
    [index] = [index for index in indexes if index["name"] == index_name]
    return {
        column for column, sorting in index.get("column_sorting", {}).items() if "desc" in sorting
    }


def test_migrated_indexes_sort_as_the_models_say(empty_app):
    """A descending column is what lets the list order be read from an index: SQLite's batch
    migrations rebuild a table's indexes from reflection, which drops the order."""
    with empty_app.app_context():
        upgrade()
        wanted = _descending_in_models()
        with db.engine.connect() as connection:
            found = {
                index.name: _descending_in_database(connection, index.name, table.name)
                for table in db.metadata.tables.values()
                for index in table.indexes
            }
    assert found == wanted


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


def _insert(connection, table_name: str, **values) -> int:
    """Insert a row into the table as it stands at this revision, filling every other
    required column with a plain value of its type; returns the new id."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=connection)
    plain = {
        sa.String: "x",
        sa.Integer: 1,
        sa.Date: date(2030, 3, 4),
        sa.DateTime: datetime(2030, 3, 1, tzinfo=UTC),
        sa.Boolean: False,
        sa.Time: time(9),
        sa.Text: "x",
    }
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.primary_key:
            continue
        if column.server_default is not None:
            continue
        row[column.name] = next(v for t, v in plain.items() if isinstance(column.type, t))
    return connection.execute(table.insert().values(**row)).inserted_primary_key[0]


def test_checked_in_and_no_show_bookings_become_attendance_of_their_day(empty_app):
    """Migration 0006 turns check-in states into attendance rows, and back on downgrade."""
    with empty_app.app_context():
        upgrade(revision="0005")
        with db.engine.begin() as connection:
            region = _insert(connection, "regions", code="jinjiang", name="晋江市")
            township = _insert(
                connection, "townships", region_id=region, code="qingyang", kind="subdistrict"
            )
            institution = _insert(
                connection,
                "institutions",
                township_id=township,
                status="draft",
                nature="inclusive",
                authority="civil_affairs",
            )
            care_class = _insert(
                connection,
                "care_classes",
                institution_id=institution,
                kind="toddler",
                capacity=10,
                carers=2,
            )
            inventory = _insert(connection, "inventories", capacity=3, taken=2)
            slot = _insert(
                connection,
                "slots",
                institution_id=institution,
                care_class_id=care_class,
                inventory_id=inventory,
                care_type="hourly",
                on_date=date(2030, 3, 4),
                starts_at=time(9),
                ends_at=time(10),
                status="open",
            )
            parent = _insert(connection, "users", role="parent", email="p@example.com")
            children = [
                _insert(connection, "children", parent_id=parent, birth_date=date(2028, 9, 1))
                for _ in range(3)
            ]

            def booked(child_id: int, status: str) -> int:
                return _insert(
                    connection,
                    "bookings",
                    slot_id=slot,
                    child_id=child_id,
                    parent_id=parent,
                    status=status,
                    request_key=f"{child_id}-{status}",
                )

            came, stayed_away = booked(children[0], "checked_in"), booked(children[1], "no_show")
            # The old rules let a child who missed the place book it again.
            missed, booked_again = booked(children[2], "no_show"), booked(children[2], "confirmed")

        upgrade()
        with db.engine.connect() as connection:
            statuses = dict(connection.execute(sa.text("SELECT id, status FROM bookings")).all())
            attended = dict(
                connection.execute(
                    sa.text("SELECT booking_id, present FROM attendances WHERE on_date = :day"),
                    {"day": date(2030, 3, 4)},
                ).all()
            )
            taken = connection.execute(sa.text("SELECT taken FROM inventories")).scalar()
        assert statuses == {
            came: "confirmed",
            stayed_away: "confirmed",
            missed: "cancelled",
            booked_again: "confirmed",
        }
        assert {key: bool(value) for key, value in attended.items()} == {
            came: True,
            stayed_away: False,
            missed: False,
        }
        assert taken == 3

        downgrade(revision="0005")
        with db.engine.connect() as connection:
            statuses = dict(connection.execute(sa.text("SELECT id, status FROM bookings")).all())
        assert statuses == {
            came: "checked_in",
            stayed_away: "no_show",
            missed: "cancelled",
            booked_again: "confirmed",
        }


def _findings_world(connection) -> dict:
    """At revision 0025: a recorded inspection with three findings and three follow-up
    findings, one in each state either table knows."""
    region = _insert(connection, "regions", code="jinjiang", name="晋江市")
    township = _insert(
        connection, "townships", region_id=region, code="qingyang", kind="subdistrict"
    )
    institution = _insert(
        connection,
        "institutions",
        township_id=township,
        status="draft",
        nature="inclusive",
        authority="civil_affairs",
        price_regime="inclusive_kindergarten",
    )
    bureau = _insert(
        connection, "users", role="regulator", email="bureau@example.com", password_hash="x"
    )
    inspection = _insert(
        connection,
        "inspections",
        institution_id=institution,
        status="recorded",
        inspected_on=date(2030, 3, 1),
        recorded_at=datetime(2030, 3, 2, tzinfo=UTC),
        recorded_by_id=bureau,
    )
    answered_at = datetime(2030, 3, 5, tzinfo=UTC)
    inspected = {
        status: _insert(
            connection,
            "inspection_findings",
            inspection_id=inspection,
            item="fire",
            description=f"inspection {status}",
            due_on=date(2030, 3, 20),
            status=status,
            answer="done" if status != "open" else "",
            answered_at=answered_at if status != "open" else None,
            closed_on=date(2030, 3, 10) if status == "closed" else None,
        )
        for status in ("open", "answered", "closed")
    }
    followed = {
        status: _insert(
            connection,
            "follow_up_findings",
            institution_id=institution,
            status=status,
            found_on=date(2030, 3, 3),
            finding=f"follow-up {status}",
            put_right_by=date(2030, 3, 25),
            recorded_by_id=bureau,
            closed_on=date(2030, 3, 12) if status in ("put_right", "not_put_right") else None,
            closing_note="note" if status != "open" else "",
        )
        for status in ("open", "put_right", "not_put_right")
    }
    return {"institution": institution, "inspection": inspection, "bureau": bureau} | {
        "inspected": inspected,
        "followed": followed,
    }


def _rows(connection, query: str) -> list[tuple]:
    """The rows of ``query``, dates as ISO text (SQLite hands back text, PostgreSQL dates)."""
    return [
        tuple(value.isoformat() if isinstance(value, date) else value for value in row)
        for row in connection.execute(sa.text(query)).all()
    ]


def test_both_kinds_of_finding_move_into_one_table_and_back(empty_app):
    """Migration 0026 copies inspection and follow-up findings into ``findings`` with their
    statuses mapped (an inspection's ``closed`` is ``put_right``), and splits them back."""
    with empty_app.app_context():
        upgrade(revision="0025")
        with db.engine.begin() as connection:
            world = _findings_world(connection)

        upgrade(revision="0026")
        with db.engine.connect() as connection:
            moved = _rows(
                connection,
                "SELECT source, status, description, institution_id, inspection_id, item,"
                " found_on, due_on, recorded_by_id FROM findings ORDER BY id",
            )
            tables = set(sa.inspect(connection).get_table_names())
        institution, inspection, bureau = world["institution"], world["inspection"], world["bureau"]
        inspected_on, found_on = "2030-03-01", "2030-03-03"
        assert moved == [
            ("inspection", status, f"inspection {old}", institution, inspection, "fire",
             inspected_on, "2030-03-20", bureau)
            for old, status in (("open", "open"), ("answered", "answered"), ("closed", "put_right"))
        ] + [
            ("follow_up", status, f"follow-up {status}", institution, None, None, found_on,
             "2030-03-25", bureau)
            for status in ("open", "put_right", "not_put_right")
        ]  # fmt: skip
        assert {"inspection_findings", "follow_up_findings"}.isdisjoint(tables)

        downgrade(revision="0025")
        with db.engine.connect() as connection:
            inspected = _rows(
                connection, "SELECT description, status FROM inspection_findings ORDER BY id"
            )
            followed = _rows(
                connection,
                "SELECT finding, status, put_right_by, closing_note FROM follow_up_findings"
                " ORDER BY id",
            )
            tables = set(sa.inspect(connection).get_table_names())
        assert inspected == [(f"inspection {status}", status) for status in world["inspected"]]
        assert followed == [
            (f"follow-up {status}", status, "2030-03-25", "note" if status != "open" else "")
            for status in world["followed"]
        ]
        assert "findings" not in tables


def test_migrations_are_not_bound_by_the_requests_statement_timeout(
    empty_app, scratch_database_url
):
    """A request's statement gives up after ``DATABASE_STATEMENT_TIMEOUT_MS``; a migration
    step rewriting a large table (here: one that sleeps past it) must not."""
    if not scratch_database_url.startswith("postgresql"):
        pytest.skip("SQLite has no statement timeout")
    hurried = make_app(scratch_database_url, DATABASE_STATEMENT_TIMEOUT_MS=200)
    slow_steps = []

    def slow_step(ctx, step, heads, run_args):
        if not slow_steps:
            ctx.connection.exec_driver_sql("SELECT pg_sleep(0.4)")
            slow_steps.append(step)

    hurried.extensions["migrate"].configure_args["on_version_apply"] = slow_step
    with hurried.app_context():
        with pytest.raises(sa.exc.OperationalError, match="statement timeout"):
            db.session.execute(sa.text("SELECT pg_sleep(0.4)"))
        db.session.rollback()
        upgrade()
        db.session.remove()
        db.engine.dispose()
    assert len(slow_steps) == 1
    with empty_app.app_context():
        assert _differences() == []
