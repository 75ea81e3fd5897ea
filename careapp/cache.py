"""The page cache: what anonymous visitors see, kept as rendered bytes and invalidated exactly.

A public page or API answer is kept under its path, query, language and the local minute,
together with the versions of the scopes it shows (``CacheScope``). Every transaction that
changes a table of a scope bumps that scope's version in the same transaction, just before it
commits (``record_changes`` / ``bump_versions``); a kept page whose versions are no longer
current is rendered afresh. The minute in the key bounds how long a page outlives what time
alone changes (a slot whose booking cut-off passed, a course that started).

The versions live in the database (``cache_versions``). With ``REDIS_URL`` set, pages and a
copy of the versions live in Redis, shared by every app server; a commit publishes its new
versions there before the request that made it answers. Without Redis, each process keeps its
own pages and reads the versions from the database, one small query per cached request.
"""

import hashlib
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from threading import Lock

import redis
import sqlalchemy as sa
from flask import Flask, Response, current_app, g, request, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.http import http_date, quote_etag
from werkzeug.wrappers import Request

from careapp import clock
from careapp.extensions import db
from careapp.i18n import LANGUAGE_COOKIE, current_language, language_of
from careapp.models import CacheScope, CacheVersion
from careapp.security import security_headers

log = logging.getLogger(__name__)

REGISTER = (CacheScope.REGISTER,)
REGISTER_AND_PLACES = (CacheScope.REGISTER, CacheScope.PLACES)
REGISTER_AND_COURSES = (CacheScope.REGISTER, CacheScope.COURSES)

#: The pages and answers kept for anonymous visitors, with the scopes each one shows.
CACHED_ENDPOINTS: dict[str, tuple[CacheScope, ...]] = {
    "public.index": REGISTER_AND_PLACES,
    "public.institution": REGISTER_AND_PLACES,
    "public.registry_page": REGISTER,
    "public.statistics_page": REGISTER_AND_PLACES,
    "public.courses": REGISTER_AND_COURSES,
    "public.course": REGISTER_AND_COURSES,
    "public.map_page": REGISTER,
    "api.townships": REGISTER,
    "api.institutions": REGISTER_AND_PLACES,
    "api.institution": REGISTER_AND_PLACES,
    "api.availability": REGISTER_AND_PLACES,
    "api.registry_events": REGISTER,
    "api.township_statistics": REGISTER_AND_PLACES,
    "api.course_list": REGISTER_AND_COURSES,
    "api.openapi": (),
}

#: Tables whose changes no public page shows. Any other table counts as the register's,
#: so that a table added later invalidates pages rather than leaving them stale.
PRIVATE_TABLES = frozenset(
    {
        "users",
        "login_sessions",
        "one_time_tokens",
        "outbox_messages",
        "child_record_views",
        "children",
        "guardian_consents",
        "attendances",
        "calendar_feeds",
        "filing_decisions",
        "change_requests",
        "deregistration_requests",
        "shortlist_entries",
        "complaints",
        "cache_versions",
        "alembic_version",
        # The bureau's denominators (indicators): no public page shows them.
        "registered_operators",
        "township_families",
    }
)
COURSE_TABLES = frozenset({"providers", "courses", "course_sessions", "course_registrations"})
PLACE_TABLES = frozenset(
    {
        "slots",
        "bookings",
        "inventories",
        "schedules",
        "closed_dates",
        "waitlist_entries",
        "care_sessions",
    }
)

#: Seconds a page is kept at most: longer than the minute it is keyed by.
ENTRY_SECONDS = 120
#: Seconds Redis keeps its copy of a version, after which it is read from the database again
#: (it heals a copy that a process stopped between its commit and its publication left old).
VERSION_COPY_SECONDS = 300

#: Where a session keeps the scopes its transaction changed, and the versions it bumped.
_STATE_KEY = "careapp_cache_scopes"
_BUMPED_KEY = "careapp_cache_bumped"


def scope_of_table(name: str) -> CacheScope | None:
    """The scope whose pages a change to table ``name`` shows, or None for private tables."""
    if name in PRIVATE_TABLES:
        return None
    if name in COURSE_TABLES:
        return CacheScope.COURSES
    return CacheScope.PLACES if name in PLACE_TABLES else CacheScope.REGISTER


@dataclass(frozen=True)
class CachedPage:
    """A rendered answer and the versions it was rendered under."""

    versions: tuple[int, ...]
    body: bytes
    content_type: str
    etag: str
    rendered_at: float
    #: The scopes ``versions`` are of, in the same order.
    scopes: tuple[str, ...] = ()

    def to_bytes(self) -> bytes:
        """One value for a key-value store: a JSON header line, then the body."""
        header = {
            "versions": self.versions,
            "scopes": self.scopes,
            "content_type": self.content_type,
            "etag": self.etag,
            "rendered_at": self.rendered_at,
        }
        return json.dumps(header).encode() + b"\n" + self.body

    @classmethod
    def from_bytes(cls, value: bytes) -> "CachedPage":
        """The page ``to_bytes`` stored."""
        header, body = value.split(b"\n", 1)
        fields = json.loads(header)
        fields["versions"] = tuple(fields["versions"])
        fields["scopes"] = tuple(fields.get("scopes", ()))
        return cls(body=body, **fields)

    def is_current(self, versions: dict[str, int]) -> bool:
        """Whether every scope the page shows is still at the version it was rendered under."""
        return all(
            versions.get(scope, 0) == version
            for scope, version in zip(self.scopes, self.versions, strict=True)
        )


def database_versions(scopes: tuple[CacheScope, ...]) -> tuple[int, ...]:
    """The scopes' current versions as the database has them (0 for a scope never bumped)."""
    if not scopes:
        return ()
    rows = db.session.execute(
        sa.select(CacheVersion.scope, CacheVersion.version).where(CacheVersion.scope.in_(scopes))
    )
    found = {scope: version for scope, version in rows}
    return tuple(found.get(scope, 0) for scope in scopes)


class LocalStore:
    """Pages in this process's memory, least recently used dropped first."""

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self.pages: OrderedDict[str, CachedPage] = OrderedDict()
        self.lock = Lock()

    def lookup(self, key: str, scopes: tuple[CacheScope, ...]):
        """The current versions of ``scopes`` and the page kept under ``key``, if any."""
        with self.lock:
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
        return database_versions(scopes), page

    def lookup_page(self, key: str) -> tuple[CachedPage | None, dict[str, int]]:
        """The page kept under ``key``, if any, and the current versions of its scopes."""
        with self.lock:
            page = self.pages.get(key)
        if page is None:
            return None, {}
        scopes = tuple(CacheScope(scope) for scope in page.scopes)
        return page, dict(zip(page.scopes, database_versions(scopes), strict=True))

    def save(self, key: str, page: CachedPage) -> None:
        """Keep ``page`` under ``key``."""
        with self.lock:
            self.pages[key] = page
            self.pages.move_to_end(key)
            while len(self.pages) > self.max_entries:
                self.pages.popitem(last=False)

    def publish(self, versions: dict[str, int]) -> None:
        """Nothing to do: each process reads the versions from the database."""

    def clear(self) -> None:
        """Forget every page."""
        with self.lock:
            self.pages.clear()


#: Sets a version's copy unless the copy is already newer: commits may publish out of order.
_RAISE_VERSION = """
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
return 1
"""


class RedisStore:
    """Pages and a copy of the versions in Redis, shared by every app server."""

    def __init__(self, url: str, prefix: str):
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.prefix = prefix
        self.raise_version = self.client.register_script(_RAISE_VERSION)

    def _version_key(self, scope: str) -> str:
        return f"{self.prefix}version:{scope}"

    def lookup(self, key: str, scopes: tuple[CacheScope, ...]):
        """The current versions of ``scopes`` and the page kept under ``key``, in one round
        trip; a version Redis lacks is read from the database and published."""
        values = self.client.mget(
            [self._version_key(scope) for scope in scopes] + [self.prefix + key]
        )
        *copies, stored = values
        if any(copy is None for copy in copies):
            versions = database_versions(scopes)
            self.publish(dict(zip(scopes, versions, strict=True)))
        else:
            versions = tuple(int(copy) for copy in copies)
        return versions, CachedPage.from_bytes(stored) if stored is not None else None

    def lookup_page(self, key: str) -> tuple[CachedPage | None, dict[str, int]]:
        """The page kept under ``key``, if any, and the current versions of every scope, in
        one round trip; versions Redis lacks are read from the database and published."""
        scopes = tuple(CacheScope)
        *copies, stored = self.client.mget(
            [self._version_key(scope) for scope in scopes] + [self.prefix + key]
        )
        if stored is None:
            return None, {}
        if any(copy is None for copy in copies):
            found = database_versions(scopes)
            self.publish(dict(zip(scopes, found, strict=True)))
        else:
            found = tuple(int(copy) for copy in copies)
        return CachedPage.from_bytes(stored), {
            str(scope): version for scope, version in zip(scopes, found, strict=True)
        }

    def save(self, key: str, page: CachedPage) -> None:
        """Keep ``page`` under ``key`` for a while."""
        self.client.set(self.prefix + key, page.to_bytes(), ex=ENTRY_SECONDS)

    def publish(self, versions: dict[str, int]) -> None:
        """Raise Redis's copies of the versions to those just committed."""
        for scope, version in sorted(versions.items()):
            self.raise_version(
                keys=[self._version_key(scope)], args=[version, VERSION_COPY_SECONDS]
            )

    def clear(self) -> None:
        """Forget every page and version copy under this store's prefix."""
        keys = list(self.client.scan_iter(match=self.prefix + "*", count=1000))
        if keys:
            self.client.delete(*keys)


def store():
    """The application's page store."""
    return current_app.extensions["careapp_page_cache"]


def clear() -> None:
    """Forget every kept page (after a database restore, or between tests)."""
    store().clear()


# -- Recording changes: a version bumped in the same transaction --------------------------


def _scopes_of(session: Session) -> set:
    return session.info.setdefault(_STATE_KEY, set())


def record_flushed_changes(session: Session, _flush_context, _instances) -> None:
    """Note the scopes of every row about to be inserted, updated or deleted."""
    scopes = _scopes_of(session)
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = getattr(instance, "__tablename__", None)
        scope = scope_of_table(table) if table else None
        if scope is not None:
            scopes.add(scope)


def record_statement_changes(execute_state) -> None:
    """Note the scope of a bulk INSERT, UPDATE or DELETE run through the session."""
    if not (execute_state.is_insert or execute_state.is_update or execute_state.is_delete):
        return
    table = getattr(execute_state.statement, "table", None)
    scope = scope_of_table(table.name) if table is not None else None
    if scope is not None:
        _scopes_of(execute_state.session).add(scope)


#: Bumps one scope's version, creating its row the first time, and says the new version.
_BUMP = sa.text(
    "INSERT INTO cache_versions (scope, version) VALUES (:scope, 1)"
    " ON CONFLICT (scope) DO UPDATE SET version = cache_versions.version + 1"
    " RETURNING version"
)


def bump_versions(session: Session) -> None:
    """Before a commit: bump the versions of every scope the transaction changed, always in
    the same order (so that two transactions wait for each other's rows, never deadlock)."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    scopes = session.info.pop(_STATE_KEY, None)
    if not scopes:
        return
    bumped = {
        scope: session.execute(_BUMP, {"scope": str(scope)}).scalar_one()
        for scope in sorted(scopes)
    }
    session.info[_BUMPED_KEY] = bumped


def publish_versions(session: Session) -> None:
    """After a commit: tell the shared store the versions it made (a failure only costs hits)."""
    bumped = session.info.pop(_BUMPED_KEY, None)
    if not bumped:
        return
    try:
        store().publish(bumped)
    except (redis.RedisError, RuntimeError) as error:
        log.warning("page cache: versions not published: %s", error)


def forget_changes(session: Session, *_args) -> None:
    """After a rollback nothing the transaction noted stands."""
    session.info.pop(_STATE_KEY, None)
    session.info.pop(_BUMPED_KEY, None)


# -- Serving: before and after the view ---------------------------------------------------


def _cacheable_request() -> bool:
    """A GET of a kept endpoint by an anonymous visitor with nothing pending in the session."""
    return (
        current_app.config["PAGE_CACHE"]
        and request.method in ("GET", "HEAD")
        and request.endpoint in CACHED_ENDPOINTS
        and "lang" not in request.args
        and "_flashes" not in session
        and not current_user.is_authenticated
    )


def page_key(incoming, language: str) -> str:
    """Host, path, sorted query, language and the local minute of request ``incoming``."""
    query = "&".join(f"{name}={value}" for name, value in sorted(incoming.args.items(multi=True)))
    minute = clock.local_now().strftime("%Y%m%d%H%M")
    return f"page:{language}:{minute}:{incoming.host}{incoming.path}?{query}"


def _conditional(response: Response, outcome: str, incoming) -> Response:
    """Headers that let a proxy and the phone reuse the answer, once they have checked it;
    ``X-Page-Cache`` says whether it came from the cache (``hit``) or was rendered."""
    response.headers["X-Page-Cache"] = outcome
    response.headers["Cache-Control"] = "public, no-cache"
    response.vary.add("Cookie")
    response.vary.add("Accept-Language")
    return response.make_conditional(incoming)


def kept_response(page: CachedPage, incoming) -> Response:
    """The answer of a kept page to request ``incoming``: 200, or 304 when its ETag matches."""
    response = Response(page.body, status=200, content_type=page.content_type)
    response.set_etag(page.etag)
    response.last_modified = datetime.fromtimestamp(page.rendered_at, UTC)
    return _conditional(response, "hit", incoming)


def serve_from_cache():
    """Before the view: answer from a kept page whose versions are current."""
    if not _cacheable_request():
        return None
    key = page_key(request, current_language())
    scopes = CACHED_ENDPOINTS[request.endpoint]
    stale = request.environ.get(STALE_PAGE)
    if stale is not None and stale[0] == key and all(scope in stale[1] for scope in scopes):
        # The front cache found the kept page old; the versions it read are the ones to
        # render under (read before the view, as ``lookup`` would).
        versions, page = tuple(stale[1][scope] for scope in scopes), None
    else:
        try:
            versions, page = store().lookup(key, scopes)
        except redis.RedisError as error:
            log.warning("page cache unavailable: %s", error)
            return None
    g.page_cache = (key, scopes, versions)
    if page is None or page.versions != versions:
        return None
    g.page_cache_hit = True
    return kept_response(page, request)


def keep_in_cache(response: Response) -> Response:
    """After the view: keep a fresh 200 answer of a cacheable request."""
    pending = g.pop("page_cache", None)
    if pending is None or g.get("page_cache_hit"):
        return response
    if response.status_code != 200 or response.is_streamed or session.modified:
        return response
    key, scopes, versions = pending
    body = response.get_data()
    page = CachedPage(
        scopes=tuple(str(scope) for scope in scopes),
        versions=versions,
        body=body,
        content_type=response.content_type,
        etag=hashlib.blake2b(body, digest_size=16).hexdigest(),
        rendered_at=float(int(clock.now().timestamp())),
    )
    try:
        store().save(key, page)
    except redis.RedisError as error:
        log.warning("page cache unavailable: %s", error)
    response.set_etag(page.etag)
    response.last_modified = datetime.fromtimestamp(page.rendered_at, UTC)
    return _conditional(response, "miss", request)


#: Request headers that make an answer conditional (304, 412 or a range): werkzeug decides.
CONDITIONAL_HEADERS = frozenset(
    {
        "HTTP_IF_NONE_MATCH",
        "HTTP_IF_MODIFIED_SINCE",
        "HTTP_IF_MATCH",
        "HTTP_IF_UNMODIFIED_SINCE",
        "HTTP_IF_RANGE",
        "HTTP_RANGE",
    }
)


#: Where the front cache leaves, for Flask, the key of a kept page it found old and the
#: versions it read (so that Flask need not read them again).
STALE_PAGE = "careapp.page_cache.stale"


class FrontCache:
    """WSGI middleware: answers a visitor without cookies from a kept page before Flask runs.

    Such a visitor is anonymous with nothing pending, so a kept page is theirs to see; the
    answer is what ``serve_from_cache`` would give, without the cost of Flask's request. Any
    other request, and every miss, goes on to Flask, which renders and keeps the page.
    """

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self.languages = app.config["LANGUAGES"]
        self.default_language = app.config["BABEL_DEFAULT_LOCALE"]
        self.headers = security_headers(app.config)

    def __call__(self, environ, start_response):
        incoming = Request(environ)
        if not self._servable(incoming):
            return self.wsgi_app(environ, start_response)
        language = language_of(incoming, self.languages, self.default_language)
        key = page_key(incoming, language)
        # Flask's request takes this application context over when it has to render: the
        # versions it read and the page then share one session and transaction.
        with self.app.app_context():
            try:
                page, versions = store().lookup_page(key)
            except (redis.RedisError, sa.exc.SQLAlchemyError) as error:
                log.warning("page cache unavailable: %s", error)
                db.session.rollback()
                page = None
            if page is None:
                return self.wsgi_app(environ, start_response)
            if not page.is_current(versions):
                environ[STALE_PAGE] = (key, versions)
                return self.wsgi_app(environ, start_response)
        if any(name in environ for name in CONDITIONAL_HEADERS):
            response = kept_response(page, incoming)
            for name, value in self.headers.items():
                response.headers.setdefault(name, value)
            return response(environ, start_response)
        start_response("200 OK", self._plain_headers(page))
        return [] if incoming.method == "HEAD" else [page.body]

    def _plain_headers(self, page: CachedPage) -> list[tuple[str, str]]:
        """The headers ``kept_response`` gives an unconditional request, written directly:
        a kept page is most of the traffic, and werkzeug's response costs a third of it."""
        return [
            ("Content-Type", page.content_type),
            ("Content-Length", str(len(page.body))),
            ("ETag", quote_etag(page.etag)),
            ("Last-Modified", http_date(page.rendered_at)),
            ("X-Page-Cache", "hit"),
            ("Cache-Control", "public, no-cache"),
            ("Vary", "Cookie, Accept-Language"),
            *self.headers.items(),
        ]

    def _servable(self, incoming: Request) -> bool:
        """A GET without cookies (but the language's) and without ``?lang=``."""
        return (
            incoming.method in ("GET", "HEAD")
            and "lang" not in incoming.args
            and all(name == LANGUAGE_COOKIE for name in incoming.cookies)
            and self.app.config["PAGE_CACHE"]
        )


def _make_store(app: Flask):
    """Redis when ``REDIS_URL`` is set, else this process's memory."""
    url = app.config["REDIS_URL"]
    if url:
        return RedisStore(url, app.config["PAGE_CACHE_PREFIX"])
    return LocalStore(app.config["PAGE_CACHE_LOCAL_ENTRIES"])


_listening = False


def _listen_to_sessions() -> None:
    """Record changes in every ORM session (once per process)."""
    global _listening
    if _listening:
        return
    event.listen(Session, "before_flush", record_flushed_changes)
    event.listen(Session, "do_orm_execute", record_statement_changes)
    event.listen(Session, "before_commit", bump_versions)
    event.listen(Session, "after_commit", publish_versions)
    event.listen(Session, "after_rollback", forget_changes)
    _listening = True


def init_app(app: Flask) -> None:
    """Keep public pages for anonymous visitors, and invalidate them with every change."""
    app.extensions["careapp_page_cache"] = _make_store(app)
    _listen_to_sessions()
    app.before_request(serve_from_cache)
    app.after_request(keep_in_cache)
    app.wsgi_app = FrontCache(app, app.wsgi_app)
