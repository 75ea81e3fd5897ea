"""What the public lists read instead of scanning the register, kept in the same flush as the
institutions and classes they describe.

- ``institution_search_terms``: every two-character piece (bigram) of the lower-cased name,
  English name, address and English address of each filed institution, with the
  institution's place in the public order. A text search of two
  characters or more looks its bigrams up here; Chinese searches are often two characters
  (陈埭, 青阳), below what trigram indexes (pg_trgm, FTS5) can serve, and the table works the
  same on PostgreSQL and SQLite.
- ``townships.listed_institutions`` and ``townships.listed_places``: filed institutions and
  their places per township, moved by deltas so concurrent changes add up.

Writes through the ORM keep both; ``rebuild_listing`` recomputes them after bulk SQL.
"""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from careapp.extensions import db
from careapp.models.institution import Institution, Status, in_listing_order
from careapp.models.provision import CareClass
from careapp.models.region import Township

#: The institution columns a text search matches, in either language.
SEARCHED_COLUMNS = ("name", "name_en", "address", "address_en")
#: Attributes whose change moves an institution's grams or counts.
_LISTING_ATTRIBUTES = ("status", "township_id", "township", "is_demonstration", *SEARCHED_COLUMNS)


class InstitutionSearchTerm(db.Model):
    """One bigram of a filed institution's searchable text, with the institution's place in
    the public order (``LISTING_ORDER``): a page of a text search walks its rarest gram's
    holders in that order and stops after the page."""

    __tablename__ = "institution_search_terms"

    gram: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    #: The institution's ``is_demonstration`` and ``name``, kept with its grams.
    is_demonstration: Mapped[bool] = mapped_column(default=False)
    name: Mapped[str] = mapped_column(sa.String(120))

    def __repr__(self) -> str:
        return f"<InstitutionSearchTerm {self.gram!r} {self.institution_id}>"


#: The columns of a term's institution's place in the public order.
TERM_PLACE = (
    InstitutionSearchTerm.is_demonstration,
    InstitutionSearchTerm.name,
    InstitutionSearchTerm.institution_id,
)
sa.Index(
    "ix_institution_search_terms_in_list_order",
    InstitutionSearchTerm.gram,
    *in_listing_order(TERM_PLACE),
)


class SearchGram(db.Model):
    """How many filed institutions hold a bigram: a search starts from its rarest one."""

    __tablename__ = "search_grams"

    gram: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    #: Filed institutions holding the gram (its rows in ``institution_search_terms``).
    institutions: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<SearchGram {self.gram!r} {self.institutions}>"


def normalised(text: str) -> str:
    """``text`` as grams and queries compare it: lower-cased."""
    return text.lower()


def bigrams(text: str) -> set[str]:
    """The distinct two-character pieces of ``text`` (none for a single character)."""
    return {text[i : i + 2] for i in range(len(text) - 1)}


def institution_grams(values) -> set[str]:
    """The bigrams of the searchable texts ``values`` (None skipped), each on its own."""
    grams: set[str] = set()
    for value in values:
        if value:
            grams |= bigrams(normalised(value))
    return grams


def _before(obj, name: str):
    """The value attribute ``name`` of ``obj`` had before this flush."""
    history = sa.inspect(obj).attrs[name].history
    if history.deleted:
        return history.deleted[0]
    return getattr(obj, name) if not history.added else None


def _changed(obj, names) -> bool:
    """Whether any of ``names`` changed on ``obj`` in this flush."""
    attrs = sa.inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


def _old_township_id(obj) -> int | None:
    """The township the institution stood in before this flush."""
    township = sa.inspect(obj).attrs["township"].history
    if township.deleted and township.deleted[0] is not None:
        return township.deleted[0].id
    return _before(obj, "township_id")


#: ``session.info`` key of the places each institution's classes gained in the running flush.
_PLACES_KEY = "listing_places"


@sa.event.listens_for(Session, "before_flush")
def _start_places(session: Session, flush_context, instances) -> None:
    """Start this flush's tally of class places (a failed flush leaves none behind)."""
    session.info[_PLACES_KEY] = {}


def _tally(target: CareClass, change: int, institution_id: int | None = None) -> None:
    """Add ``change`` places to the tally of the class's institution."""
    session = sa.orm.object_session(target)
    owner = institution_id if institution_id is not None else target.institution_id
    places = session.info.setdefault(_PLACES_KEY, {})
    places[owner] = places.get(owner, 0) + change


# Mapper events, not the session's lists: a class deleted as an orphan is in no list.
@sa.event.listens_for(CareClass, "after_insert")
def _class_added(mapper, connection, target: CareClass) -> None:
    """A new class adds its places."""
    _tally(target, target.capacity)


@sa.event.listens_for(CareClass, "after_update")
def _class_changed(mapper, connection, target: CareClass) -> None:
    """A class whose capacity changed adds the difference."""
    if _changed(target, ("capacity",)):
        _tally(target, target.capacity - (_before(target, "capacity") or 0))


@sa.event.listens_for(CareClass, "after_delete")
def _class_deleted(mapper, connection, target: CareClass) -> None:
    """A deleted class takes its places away."""
    _tally(target, -(_before(target, "capacity") or 0), _before(target, "institution_id"))


@sa.event.listens_for(Session, "after_flush")
def _keep_listing(session: Session, flush_context) -> None:
    """Move grams and township counts with the institutions and classes just flushed."""
    moved: dict[int, tuple] = {}  # institution id -> (township filed in before, and now)
    regrammed: dict[int, Institution | None] = {}  # None: the institution was deleted
    for obj in session.new:
        if isinstance(obj, Institution):
            moved[obj.id] = (None, _filed_in(obj))
            regrammed[obj.id] = obj
    for obj in session.dirty:
        if isinstance(obj, Institution) and _changed(obj, _LISTING_ATTRIBUTES):
            was = _old_township_id(obj) if _before(obj, "status") == Status.FILED else None
            moved[obj.id] = (was, _filed_in(obj))
            regrammed[obj.id] = obj
    for obj in session.deleted:
        if isinstance(obj, Institution):
            was = _old_township_id(obj) if _before(obj, "status") == Status.FILED else None
            moved[obj.id] = (was, None)
            regrammed[obj.id] = None
    deltas = session.info.pop(_PLACES_KEY, {})
    if not (moved or deltas):
        return
    connection = session.connection()
    _move_counts(connection, session, moved, deltas)
    if regrammed:
        _regram(connection, regrammed)


def _filed_in(institution: Institution) -> int | None:
    """The township a filed institution counts in; None unless filed."""
    return institution.township_id if institution.status == Status.FILED else None


def _move_counts(connection, session: Session, moved: dict, deltas: dict[int, int]) -> None:
    """Apply the flush's changes to the townships' counts, as deltas."""
    township_deltas: dict[int, list[int]] = {}

    def add(township_id: int | None, institutions: int, places: int) -> None:
        if township_id is None or not (institutions or places):
            return
        row = township_deltas.setdefault(township_id, [0, 0])
        row[0] += institutions
        row[1] += places

    relocated = [i for i, (was, now) in moved.items() if was != now]
    places_now = _places_of(connection, relocated)
    for institution_id, (was, now) in moved.items():
        if was == now:
            add(now, 0, deltas.get(institution_id, 0))
            continue
        current = places_now.get(institution_id, 0)
        add(was, -1, -(current - deltas.get(institution_id, 0)))
        add(now, 1, current)
    for institution_id, change in deltas.items():
        if institution_id not in moved:
            add(_filed_township(session, institution_id), 0, change)
    if township_deltas:
        table = Township.__table__
        connection.execute(
            table.update()
            .where(table.c.id == sa.bindparam("township"))
            .values(
                listed_institutions=table.c.listed_institutions + sa.bindparam("institutions"),
                listed_places=table.c.listed_places + sa.bindparam("places"),
            ),
            [
                {"township": township, "institutions": count, "places": places}
                for township, (count, places) in township_deltas.items()
            ],
        )


def _places_of(connection, institution_ids: list[int]) -> dict[int, int]:
    """Places of each of ``institution_ids`` as the database holds them now."""
    if not institution_ids:
        return {}
    table = CareClass.__table__
    query = (
        sa.select(table.c.institution_id, sa.func.sum(table.c.capacity))
        .where(table.c.institution_id.in_(institution_ids))
        .group_by(table.c.institution_id)
    )
    return {institution_id: int(places) for institution_id, places in connection.execute(query)}


def _filed_township(session: Session, institution_id: int) -> int | None:
    """The township of the institution when it is filed, else None (no count moves)."""
    institution = session.get(Institution, institution_id)
    if institution is None or institution.status != Status.FILED:
        return None
    return institution.township_id


def _regram(connection, institutions: dict[int, Institution | None]) -> None:
    """Replace the grams of ``institutions`` (a filed one's texts, none for any other) and
    move the grams' institution counts by the difference."""
    table = InstitutionSearchTerm.__table__
    removed = connection.execute(
        table.delete()
        .where(table.c.institution_id.in_(institutions))
        .returning(table.c.institution_id, table.c.gram)
    ).all()
    rows = [
        term
        for _, institution in sorted(institutions.items())
        if institution is not None and institution.status == Status.FILED
        for term in _term_rows(institution)
    ]
    if rows:
        connection.execute(table.insert(), rows)
    changes: dict[str, int] = {}
    for _institution_id, gram in removed:
        changes[gram] = changes.get(gram, 0) - 1
    for row in rows:
        changes[row["gram"]] = changes.get(row["gram"], 0) + 1
    _count_grams(connection, {gram: change for gram, change in changes.items() if change})


def _term_rows(institution) -> list[dict]:
    """The term rows of a filed institution (an object, or a row with its id, demonstration
    flag and searched texts): each gram of its texts, with its place in the public order."""
    place = {
        "institution_id": institution.id,
        "is_demonstration": institution.is_demonstration,
        "name": institution.name,
    }
    texts = (getattr(institution, column) for column in SEARCHED_COLUMNS)
    return [{"gram": gram, **place} for gram in sorted(institution_grams(texts))]


def _count_grams(connection, changes: dict[str, int]) -> None:
    """Add ``changes`` to the grams' institution counts (new grams start from nothing)."""
    if not changes:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    table = SearchGram.__table__
    insert = dialect.insert(table)
    upsert = insert.on_conflict_do_update(
        index_elements=[table.c.gram],
        set_={"institutions": table.c.institutions + insert.excluded.institutions},
    )
    connection.execute(
        upsert, [{"gram": gram, "institutions": change} for gram, change in sorted(changes.items())]
    )


def rebuild_listing(connection) -> None:
    """Recompute every gram and township count from the register (after bulk SQL writes)."""
    institutions = Institution.__table__
    terms = InstitutionSearchTerm.__table__
    connection.execute(terms.delete())
    connection.execute(SearchGram.__table__.delete())
    columns = ("id", "is_demonstration", *SEARCHED_COLUMNS)
    filed = sa.select(*(institutions.c[column] for column in columns))
    batch = []
    for row in connection.execute(filed.where(institutions.c.status == Status.FILED)):
        batch += _term_rows(row)
        if len(batch) >= 50_000:
            connection.execute(terms.insert(), batch)
            batch = []
    if batch:
        connection.execute(terms.insert(), batch)
    connection.execute(count_grams())
    connection.execute(recount_townships())


def count_grams() -> sa.Insert:
    """An INSERT of every gram's institution count, counted from the terms (into an empty
    ``search_grams``)."""
    terms = InstitutionSearchTerm.__table__
    counted = sa.select(terms.c.gram, sa.func.count()).group_by(terms.c.gram)
    return SearchGram.__table__.insert().from_select(["gram", "institutions"], counted)


def recount_townships() -> sa.Update:
    """An UPDATE that sets every township's counts from a fresh count of the register."""
    institutions = Institution.__table__
    classes = CareClass.__table__
    townships = Township.__table__
    filed_here = sa.and_(
        institutions.c.township_id == townships.c.id, institutions.c.status == Status.FILED
    )
    count = sa.select(sa.func.count()).where(filed_here).scalar_subquery()
    places = (
        sa.select(sa.func.coalesce(sa.func.sum(classes.c.capacity), 0))
        .join(institutions, institutions.c.id == classes.c.institution_id)
        .where(filed_here)
        .scalar_subquery()
    )
    return townships.update().values(listed_institutions=count, listed_places=places)
