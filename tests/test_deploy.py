"""The production setup of deploy/: two app servers behind nginx, sharing PostgreSQL and
Redis, survive losing one of them; a backup restores into a fresh database.

The stack tests run gunicorn with deploy/gunicorn.conf.py and Debian's nginx with the
deploy site rendered into a temporary folder, on loopback ports, in production mode (HTTPS
with a self-signed certificate). They need nginx, openssl, PostgreSQL (TEST_DATABASE_URL)
and Redis (TEST_REDIS_URL, default redis://127.0.0.1:6379; each test process takes a
database number of its own and empties it), and skip with a reason when one is missing.
"""

import http.client
import math
import os
import random
import re
import shutil
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import time as at
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import flask
import flask_login
import pytest
import redis
import sqlalchemy as sa
from argon2 import PasswordHasher
from conftest import (
    POSTGRES_URL,
    WORKER,
    Factories,
    drop_postgres_database,
    fresh_postgres_database,
    make_app,
)
from deploy_stack import (
    DEPLOY,
    NGINX,
    SITE,
    USER_AGENT,
    Answer,
    AppServer,
    Proxy,
    check_nginx_config,
    free_port,
    launch_app_server,
    parse_log,
    refuses_connections,
    start_proxy,
    upstream_parameters,
    write_nginx_config,
)
from flask_wtf.csrf import generate_csrf

from careapp import clock
from careapp.config import PROJECT_ROOT
from careapp.extensions import db
from careapp.models import (
    ACTIVE_BOOKING_STATUSES,
    Booking,
    CareType,
    ClassKind,
    Institution,
    Inventory,
    Role,
    Slot,
    User,
)
from careapp.security import STRICT_TRANSPORT_SECURITY
from careapp.services import booking, sessions

#: Signs the session cookies made here and checked by both app servers (test data only).
SECRET_KEY = "careapp-deploy-test-secret-not-for-production"
REDIS_BASE = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
#: Each pytest-xdist worker empties a Redis database of its own: 10 for gw0, 11 for gw1, …
REDIS_DB = 10 + int(WORKER[2:]) % 6 if WORKER.startswith("gw") else 10

INSTITUTIONS = 8
#: The load's booking slots: on days of their own (a child's bookings may not overlap).
SLOTS = 4
PLACES = 6
PARENTS = 30
#: Client threads of the load run.
THREADS = 8
#: Requests answered before the kill, and requests started after the killed server's port
#: refused connections, before the load stops.
BEFORE_KILL = 40
AFTER_DEAD = 120
BOOKING_SHARE = 0.3
#: Seconds one phase of the load may take at most (a stalled run fails instead of hanging).
PHASE_TIMEOUT = 60


def _redis_url() -> str:
    return f"{REDIS_BASE}/{REDIS_DB}"


def _missing_database() -> str | None:
    """Why the PostgreSQL tests cannot run here, or None."""
    if not POSTGRES_URL:
        return "TEST_DATABASE_URL is not set (PostgreSQL is needed)"
    try:
        engine = sa.create_engine(POSTGRES_URL, poolclass=sa.pool.NullPool)
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        return f"PostgreSQL at TEST_DATABASE_URL does not answer: {error.orig}"
    return None


def _missing_stack() -> str | None:
    """Why the nginx + gunicorn + Redis stack cannot run here, or None."""
    if NGINX is None:
        return "nginx is not installed (Debian package nginx)"
    if shutil.which("openssl") is None:
        return "openssl is not installed (the test makes a self-signed certificate)"
    try:
        redis.Redis.from_url(_redis_url(), socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        return f"Redis at {REDIS_BASE} does not answer: {error}"
    return _missing_database()


@dataclass(frozen=True)
class Parent:
    """A signed-in parent: session cookie, form token, and the child to book for."""

    user_id: int
    child_id: int
    cookie: str
    csrf_token: str

    @property
    def headers(self) -> dict[str, str]:
        """What the parent's browser sends with every request."""
        return {"Cookie": f"session={self.cookie}"}


@dataclass(frozen=True)
class Register:
    """The test database: its URL, public institutions, the load's slots and parents."""

    url: str
    institution_ids: list[int]
    slot_ids: list[int]
    parents: list[Parent]


def build_register(app: flask.Flask) -> tuple[list[int], list[int], list[tuple[int, int]]]:
    """Filed institutions, ``SLOTS`` temporary-care slots of ``PLACES`` places, ``PARENTS``
    parents with a two-year-old child each, and two bookings already made (so that a backup
    has some). Returns institution ids, slot ids and (user id, child id) pairs."""
    factories = Factories(app)
    offers = {CareType.TEMPORARY: (12, 36, 150), CareType.FULL_DAY: (12, 36, 2800)}
    institution_ids = [
        factories.institution(
            f"晋江市部署测试托育中心{number}",
            offers=offers,
            classes=((ClassKind.OLDER_TODDLER, 20, 3),),
        )
        for number in range(INSTITUTIONS)
    ]
    with app.app_context():
        care_class = db.session.get(Institution, institution_ids[0]).classes[0]
        today = clock.local_now().date()
        slots = [
            booking.add_slot(
                care_class, CareType.TEMPORARY, today + timedelta(days=day), at(8, 30), at(17),
                PLACES, today,
            )
            for day in range(1, SLOTS + 2)
        ]  # fmt: skip
        # Nobody signs in with it (sessions are made directly); any argon2id hash will do.
        password_hash = PasswordHasher().hash("deploy-test-password")
        users = [
            User(
                email=f"parent{number:03d}@deploy.invalid",
                password_hash=password_hash,
                role=Role.PARENT,
                display_name=f"部署测试家长{number}",
                language="zh_CN",
                email_confirmed_at=clock.now(),
            )
            for number in range(PARENTS)
        ]
        db.session.add_all(users)
        db.session.flush()
        # About 26 months old: inside the class's 24-36 and the offer's 12-36 months.
        born = today - timedelta(days=800)
        children = [
            booking.add_child(user, name=f"王小{n}", birth_date=born, notes="", consent=True)
            for n, user in enumerate(users)
        ]
        # The last slot is not part of the load: two bookings made here, for the backup.
        for user, child in zip(users[:2], children[:2], strict=True):
            booking.book(user, child.id, slots[-1], booking.new_request_key(), clock.local_now())
        db.session.commit()
        accounts = [(user.id, child.id) for user, child in zip(users, children, strict=True)]
        slot_ids = [slot.id for slot in slots[:-1]]
    return institution_ids, slot_ids, accounts


def sign_in(app: flask.Flask, accounts: list[tuple[int, int]]) -> list[Parent]:
    """A server-side session, its cookie and a form token per (user id, child id), made
    in-process as bench/booking.py does. One application context each: Flask-WTF caches the
    form token in ``g``. Through nginx the app sees the client's address, 127.0.0.1."""
    serializer = app.session_interface.get_signing_serializer(app)
    parents = []
    for user_id, child_id in accounts:
        with (
            app.app_context(),
            app.test_request_context(
                headers={"User-Agent": USER_AGENT}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
            ),
        ):
            user = db.session.get(User, user_id)
            user.login_token = sessions.start(user, clock.now())
            db.session.commit()
            flask_login.login_user(user)
            token = generate_csrf()
            cookie = serializer.dumps(dict(flask.session))
            parents.append(Parent(user_id, child_id, cookie, token))
    return parents


@pytest.fixture(scope="module")
def register():
    """A PostgreSQL database of its own, migrated with ``flask db upgrade`` and filled."""
    if reason := _missing_database():
        pytest.skip(reason)
    url = fresh_postgres_database("_deploy")
    try:
        app = make_app(url, SECRET_KEY=SECRET_KEY)
        # `flask db upgrade`, run in this process: a new interpreter would only add seconds.
        upgraded = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert upgraded.exit_code == 0, upgraded.output
        institution_ids, slot_ids, accounts = build_register(app)
        parents = sign_in(app, accounts)
        with app.app_context():
            db.engine.dispose()
        yield Register(url, institution_ids, slot_ids, parents)
    finally:
        drop_postgres_database(url)


def stack_environment(register: Register) -> dict[str, str]:
    """What /etc/careapp/careapp.env holds on each app server, for this test."""
    return {
        "CAREAPP_ENV": "production",
        "SECRET_KEY": SECRET_KEY,
        "SITE_URL": "https://127.0.0.1",
        "DATABASE_URL": register.url,
        "REDIS_URL": _redis_url(),
        "TRUSTED_PROXIES": "1",
        "CAREAPP_WORKERS": "2",
        "MAIL_BACKEND": "console",
    }


@contextmanager
def running_stack(register: Register, folder: Path):
    """Two app servers sharing the database and an emptied Redis database, behind nginx."""
    if reason := _missing_stack():
        pytest.skip(reason)
    store = redis.Redis.from_url(_redis_url())
    store.flushdb()
    environment = stack_environment(register)
    servers: list[AppServer] = []
    proxy: Proxy | None = None
    try:
        servers = [launch_app_server(free_port(), environment, folder) for _ in range(2)]
        for server in servers:
            server.wait_until_ready()
        proxy = start_proxy(folder / "nginx", servers)
        yield proxy
    finally:
        if proxy is not None:
            proxy.stop()
        for server in servers:
            server.stop()
        store.flushdb()
        store.close()


@pytest.fixture(scope="module")
def stack(register, tmp_path_factory):
    """The stack the tests that leave it whole share."""
    with running_stack(register, tmp_path_factory.mktemp("stack")) as proxy:
        yield proxy


@pytest.fixture
def stack_to_break(register, tmp_path):
    """A stack of its own, for a test that kills one of its app servers."""
    with running_stack(register, tmp_path) as proxy:
        yield proxy


def eventually(read, enough, timeout: float = 10):
    """``read()`` once ``enough`` of it holds, or its last value after ``timeout`` seconds:
    nginx and gunicorn write a log line just after they answer."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if enough(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def log_lines_when(proxy: Proxy, enough, since: int = 0, timeout: float = 10):
    """nginx's parsed access log from line ``since`` on, once ``enough(lines)`` holds (see
    ``eventually``)."""
    return eventually(lambda: parse_log(proxy.log_lines(since)), enough, timeout)


def login_form(proxy: Proxy) -> tuple[str, str]:
    """The sign-in form's session cookie and token, as a browser gets them."""
    page = proxy.get("/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.body.decode())
    return page.cookies()["session"], token[1]


def failed_login(proxy: Proxy, form: tuple[str, str], email: str) -> int:
    """A wrong password for ``email`` posted with the sign-in ``form``; the status."""
    cookie, token = form
    fields = urlencode({"email": email, "password": "wrong-password", "csrf_token": token})
    return proxy.post("/login", fields, {"Cookie": f"session={cookie}"}).status


# --- the deploy files ------------------------------------------------------------------------


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian package nginx)")
@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_nginx_site_passes_nginx_configuration_check(tmp_path):
    count, parameters = upstream_parameters(SITE.read_text())
    write_nginx_config(tmp_path, [free_port(), free_port()], free_port(), free_port())

    checked = check_nginx_config(tmp_path)

    assert checked.returncode == 0, checked.stderr
    assert count >= 2
    assert re.search(r"max_fails=\d+", parameters)
    assert re.search(r"fail_timeout=\d+s", parameters)


def test_proxy_passes_requests_on_only_after_errors_and_timeouts():
    """Not after a 5xx, and not a POST that was sent (no ``non_idempotent``)."""
    files = [DEPLOY / "nginx" / "careapp-proxy.conf", SITE]
    lines = [line.split("#")[0].strip() for path in files for line in path.read_text().splitlines()]

    retries = [line for line in lines if line.startswith("proxy_next_upstream ")]

    assert retries == ["proxy_next_upstream error timeout;"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is absent")
def test_systemd_units_verify_without_warnings(tmp_path):
    units = sorted((DEPLOY / "systemd").iterdir())
    for unit in units:
        # Where the units expect the checkout, this one: their commands must exist.
        text = unit.read_text().replace("/srv/careapp", str(PROJECT_ROOT))
        (tmp_path / unit.name).write_text(text)

    verified = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(unit.name for unit in units)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )

    assert {unit.suffix for unit in units} == {".service", ".timer"}
    assert verified.returncode == 0
    assert verified.stderr == ""
    assert verified.stdout == ""


@pytest.mark.skipif(shutil.which("logrotate") is None, reason="logrotate is absent")
def test_logrotate_configuration_parses(tmp_path):
    (tmp_path / "access.log").write_text("a line\n")
    config = (DEPLOY / "logrotate" / "careapp").read_text()
    config = config.replace("/var/log/careapp", str(tmp_path)).replace(
        "careapp careapp", "root root"
    )
    (tmp_path / "careapp.conf").write_text(config)

    checked = subprocess.run(
        [
            "logrotate",
            "--debug",
            "--state",
            str(tmp_path / "state"),
            str(tmp_path / "careapp.conf"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )

    assert checked.returncode == 0, checked.stderr
    assert "error" not in checked.stderr.lower()
    assert f"considering log {tmp_path}/access.log" in checked.stderr


# --- two app servers behind nginx -----------------------------------------------------------


def test_both_app_servers_answer_and_share_sessions_and_limits(stack, register):
    parent = register.parents[0]
    mark = len(stack.log_lines())

    homes = [stack.get("/parents/", parent.headers) for _ in range(6)]
    form = login_form(stack)
    logins = [failed_login(stack, form, "someone@deploy.invalid") for _ in range(7)]

    limits = redis.Redis.from_url(_redis_url()).keys("LIMITS:*login-account*")
    lines = log_lines_when(stack, lambda lines: len(lines) >= 6 + 1 + 7, mark)
    addresses = {server.address for server in stack.servers}
    assert [answer.status for answer in homes] == [200] * 6
    assert {line.upstreams[-1] for line in lines if line.path == "/parents/"} == addresses
    # 5 failed attempts per account in 10 minutes, counted in Redis whichever server answers.
    assert logins == [200] * 5 + [429] * 2
    posts = [line for line in lines if line.method == "POST" and line.path == "/login"]
    assert {line.upstreams[-1] for line in posts} == addresses
    assert limits


def test_app_takes_scheme_host_and_address_from_nginx_not_the_client(stack):
    forged = {
        "X-Forwarded-Proto": "http",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-For": "203.0.113.9",
    }

    answer = stack.get("/api/v1/open-data/hsds.json", forged)

    links = re.findall(r"https?://[^\"/]+/institutions/\d+", answer.body.decode())
    assert answer.status == 200
    assert links
    assert {link.rsplit("/", 1)[0] for link in links} == {"https://127.0.0.1/institutions"}
    # HSTS comes from the app (production), once: nginx adds no second copy.
    assert answer.headers["strict-transport-security"] == STRICT_TRANSPORT_SECURITY
    logged = eventually(
        lambda: [
            line
            for server in stack.servers
            for line in server.access_log().splitlines()
            if "/open-data/hsds.json" in line
        ],
        len,
    )
    assert len(logged) == 1
    assert logged[0].startswith("127.0.0.1 ")
    assert "203.0.113.9" not in logged[0]


def test_nginx_serves_static_files_redirects_http_and_logs_no_secret(stack):
    mark = len(stack.log_lines())

    stylesheet = stack.get("/static/style.css")
    plain = stack.get_plain("/registry?page=2")
    feed = stack.get("/calendar/a-secret-feed-token.ics")
    health = stack.get("/healthz")

    assert stylesheet.status == 200
    assert stylesheet.body == (PROJECT_ROOT / "careapp" / "static" / "style.css").read_bytes()
    assert stylesheet.headers["cache-control"] == "max-age=3600"
    # nginx answered, not the app, which sends its security headers on everything.
    assert "content-security-policy" not in stylesheet.headers
    assert (plain.status, plain.location) == (301, "https://127.0.0.1/registry?page=2")
    assert feed.status == 404
    assert health.status == 200
    assert b'"database":"ok"' in health.body
    # Static files and health checks are not logged; the feed's secret is not either.
    lines = log_lines_when(stack, lambda lines: len(lines) >= 2, mark)
    assert [(line.method, line.path, line.status) for line in lines] == [
        ("GET", "/registry", 301),
        ("GET", "/calendar/...", 404),
    ]
    assert lines[0].upstreams == ()
    assert len(lines[1].upstreams) == 1
    assert "a-secret-feed-token" not in "\n".join(stack.log_lines())


# --- losing an app server under load --------------------------------------------------------


@dataclass(frozen=True)
class BookingForm:
    """A booking form as a parent's browser holds it: the slot and its one-time key."""

    parent: Parent
    slot_id: int
    request_key: str


@dataclass
class Attempt:
    """One request of the load run: what, when (wall clock, as nginx logs) and the answer."""

    kind: str
    path: str
    started: float
    ended: float
    status: int | None
    location: str = ""
    form: BookingForm | None = None
    error: str = ""

    @property
    def failed(self) -> bool:
        """No answer, or a server error (nginx's 502 included)."""
        return self.status is None or self.status >= 500

    @property
    def booked(self) -> bool:
        """A booking made: the redirect to its page."""
        return self.status == 302 and "/parents/bookings/" in self.location


class Load:
    """``THREADS`` clients searching and booking through nginx until told to stop."""

    def __init__(self, proxy: Proxy, register: Register):
        self.proxy = proxy
        self.searches = [
            "/",
            "/?care_type=temporary",
            "/?township=qingyang&age_months=26",
            "/?q=%E9%83%A8%E7%BD%B2",
            "/api/v1/institutions?per_page=5",
            *(f"/institutions/{number}" for number in register.institution_ids[:4]),
        ]
        chance = random.Random(14)
        self.forms = [
            BookingForm(parent, slot_id, booking.new_request_key())
            for parent in register.parents
            for slot_id in register.slot_ids
        ]
        chance.shuffle(self.forms)
        self.attempts: list[Attempt] = []
        self.changed = threading.Condition()
        self.stopping = threading.Event()

    def book(self, form: BookingForm) -> Attempt:
        """POST a booking form."""
        path = f"/parents/book/{form.slot_id}"
        fields = {
            "child_id": form.parent.child_id,
            "request_key": form.request_key,
            "csrf_token": form.parent.csrf_token,
        }
        started = time.time()
        try:
            answer = self.proxy.post(path, urlencode(fields), form.parent.headers)
        except (OSError, http.client.HTTPException) as error:
            answer = error
        return self._attempt("book", path, started, answer, form)

    def search(self, path: str) -> Attempt:
        """GET a public page."""
        started = time.time()
        try:
            answer = self.proxy.get(path)
        except (OSError, http.client.HTTPException) as error:
            answer = error
        return self._attempt("search", path, started, answer)

    @staticmethod
    def _attempt(kind, path, started, answer: Answer | Exception, form=None) -> Attempt:
        """What came back; a request that raised has no status, and its error instead."""
        ended = time.time()
        if isinstance(answer, Exception):
            return Attempt(kind, path, started, ended, None, form=form, error=repr(answer))
        return Attempt(kind, path, started, ended, answer.status, answer.location, form)

    def client(self, number: int) -> None:
        """One client: a booking now and then while forms last, searches otherwise."""
        chance = random.Random(number)
        while not self.stopping.is_set():
            form = None
            if chance.random() < BOOKING_SHARE:
                with self.changed:
                    form = self.forms.pop() if self.forms else None
            attempt = self.book(form) if form else self.search(chance.choice(self.searches))
            with self.changed:
                self.attempts.append(attempt)
                self.changed.notify_all()

    def wait_for(self, enough) -> None:
        """Block until ``enough(attempts)`` holds."""
        with self.changed:
            if not self.changed.wait_for(lambda: enough(self.attempts), PHASE_TIMEOUT):
                raise AssertionError(f"the load stalled after {len(self.attempts)} requests")


@dataclass
class KillRun:
    """A load run during which one app server was killed: its requests and moments."""

    attempts: list[Attempt]
    killed_at: float
    dead_at: float
    ended_at: float

    def summary(self) -> str:
        """The run in one line, with every failed request."""
        failed = [attempt for attempt in self.attempts if attempt.failed]
        seconds = self.ended_at - self.attempts[0].started
        return (
            f"{len(self.attempts)} requests ({len(self.attempts) / seconds:.0f}/s),"
            f" {sum(a.kind == 'book' for a in self.attempts)} booking POSTs; killed at"
            f" +{self.killed_at - self.attempts[0].started:.2f} s, port refused"
            f" {1000 * (self.dead_at - self.killed_at):.0f} ms later; failed: "
            + (", ".join(
                f"{a.kind} {a.status or a.error} started"
                f" {1000 * (a.started - self.killed_at):+.0f} ms"
                for a in failed
            ) or "none")
        )  # fmt: skip


def run_load_killing(load: Load, victim: AppServer) -> KillRun:
    """Run the load; after ``BEFORE_KILL`` requests kill ``victim``, wait until its port
    refuses connections, and stop once ``AFTER_DEAD`` requests started after that."""
    clients = [threading.Thread(target=load.client, args=(n,), daemon=True) for n in range(THREADS)]
    for client in clients:
        client.start()
    try:
        load.wait_for(lambda attempts: len(attempts) >= BEFORE_KILL)
        killed_at = time.time()
        victim.kill()
        while not refuses_connections(victim.port):
            time.sleep(0.001)
        dead_at = time.time()
        load.wait_for(lambda attempts: sum(a.started >= dead_at for a in attempts) >= AFTER_DEAD)
    finally:
        load.stopping.set()
        for client in clients:
            client.join(PHASE_TIMEOUT)
    return KillRun(list(load.attempts), killed_at, dead_at, time.time())


def bookings_in_database(register: Register):
    """The load slots' bookings (request key, id, slot, child), their active bookings per
    slot, and their inventories' ``taken`` per slot."""
    app = make_app(register.url, SECRET_KEY=SECRET_KEY)
    slots = register.slot_ids
    with app.app_context():
        rows = db.session.execute(
            sa.select(Booking.request_key, Booking.id, Booking.slot_id, Booking.child_id).where(
                Booking.slot_id.in_(slots)
            )
        ).all()
        active = db.session.execute(
            sa.select(Booking.slot_id, sa.func.count())
            .where(Booking.slot_id.in_(slots), Booking.status.in_(ACTIVE_BOOKING_STATUSES))
            .group_by(Booking.slot_id)
        ).all()
        taken = db.session.execute(
            sa.select(Slot.id, Inventory.taken)
            .join(Inventory, Slot.inventory_id == Inventory.id)
            .where(Slot.id.in_(slots))
        ).all()
        db.session.remove()
        db.engine.dispose()
    return rows, {slot: dict(active).get(slot, 0) for slot in slots}, dict(taken)


def test_killing_an_app_server_fails_no_request_once_its_port_refuses_connections(
    stack_to_break, register
):
    """The window: requests nginx had already sent to the server when it was killed.

    A GET among them is passed on to the other server (proxy_next_upstream error timeout),
    unless the server had begun to answer it: nginx cannot take back an answer it has begun
    to relay, and cuts the connection. A POST is not passed on, it may have been carried
    out: nginx answers 502 (or cuts a begun answer). Every request started after the killed
    server's port refuses connections is answered, and nginx tries the dead server at most
    max_fails times more (each time passing the request on) before it leaves it out for
    fail_timeout. No booking is lost or made twice: a failed POST sent again with its form's
    one-time key gets the booking made, or a new one, never a second.
    """
    load = Load(stack_to_break, register)
    victim, survivor = stack_to_break.servers

    run = run_load_killing(load, victim)
    failed = [attempt for attempt in run.attempts if attempt.failed]
    again = [load.book(attempt.form) for attempt in failed]

    print(run.summary())
    # Only requests in flight to the killed server when it died fail; nginx answers no GET
    # with an error (it passes each on), it can only cut one the dead server began to answer.
    in_flight = [a for a in failed if a.started < run.dead_at and a.ended >= run.killed_at]
    assert in_flight == failed, run.summary()
    searches = [a for a in run.attempts if a.kind == "search" and not a.failed]
    assert [a for a in failed if a.kind == "search" and a.status is not None] == []
    # (A search may answer with a redirect, should the search move; never with an error.)
    assert [a.status for a in searches if a.status >= 400] == []
    posts = [a for a in run.attempts if a.kind == "book"]
    assert [a for a in posts if not (a.booked or a.status == 409 or a.failed)] == []
    assert [(a.status, a.location) for a in again if not (a.booked or a.status == 409)] == []

    # No booking lost or doubled: the database holds exactly the bookings answered.
    answered = {
        a.form.request_key: int(a.location.rsplit("/", 1)[1])
        for a in [*run.attempts, *again]
        if a.booked
    }
    rows, active, taken = bookings_in_database(register)
    assert {row.request_key: row.id for row in rows} == answered
    assert len({(row.child_id, row.slot_id) for row in rows}) == len(rows)
    assert max(active.values()) <= PLACES
    assert active == taken

    # nginx: both servers took bookings before the kill; then the dead one was tried at most
    # max_fails times (plus once per fail_timeout that passed), each request passed on.
    lines = log_lines_when(
        stack_to_break, lambda lines: len(lines) >= len(run.attempts) + len(again)
    )
    _count, parameters = upstream_parameters(SITE.read_text())
    max_fails = int(re.search(r"max_fails=(\d+)", parameters)[1])
    fail_timeout = int(re.search(r"fail_timeout=(\d+)s", parameters)[1])
    booked_by = {
        line.upstreams[-1]
        for line in lines
        if line.method == "POST" and line.msec < run.killed_at and line.status == 302
    }
    tries_on_dead = [
        line
        for line in lines
        if line.msec - line.request_time >= run.dead_at and victim.address in line.upstreams
    ]
    passed_on = [(line.method, line.upstream_statuses) for line in lines if len(line.upstreams) > 1]
    print(f"passed on to the other server: {passed_on}; tries on the dead one after its port")
    print(f"refused connections: {len(tries_on_dead)}")
    assert booked_by == {victim.address, survivor.address}
    assert len(tries_on_dead) <= max_fails + math.ceil((run.ended_at - run.dead_at) / fail_timeout)
    assert {line.upstreams[-1] for line in tries_on_dead} <= {survivor.address}
    assert "Traceback" not in survivor.error_log()


# --- backup and restore ---------------------------------------------------------------------


def _row_counts(url: str) -> dict[str, int]:
    """Rows per table of the models (and Alembic's) in the database at ``url``."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    tables = [table.name for table in db.metadata.sorted_tables] + ["alembic_version"]
    with engine.connect() as connection:
        return {
            name: connection.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            for name in tables
        }


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_backup_restores_into_a_fresh_database_that_the_app_serves(register, tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    database = sa.engine.make_url(register.url).database
    expired, recent = backups / f"{database}-expired.dump", backups / f"{database}-recent.dump"
    for dump, days in ((expired, 20), (recent, 2)):
        dump.write_bytes(b"an older backup")
        stamp = time.time() - days * 86400
        os.utime(dump, (stamp, stamp))
    environment = dict(os.environ, DATABASE_URL=register.url, BACKUP_DIR=str(backups))
    environment["BACKUP_KEEP_DAYS"] = "14"

    made = subprocess.run(
        [DEPLOY / "backup.sh"], env=environment, capture_output=True, text=True, check=False
    )

    assert made.returncode == 0, made.stderr
    dump = Path(made.stdout.strip())
    assert re.fullmatch(rf"{database}-\d{{8}}T\d{{6}}Z\.dump", dump.name)
    assert sorted(path.name for path in backups.iterdir()) == sorted([dump.name, recent.name])
    listing = subprocess.run(
        [shutil.which("pg_restore") or "pg_restore", "--list", dump],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # The dump's pg_dump is the server's major version.
    server, tool = (
        re.search(r"Dumped from database version: (\d+)", listing)[1],
        re.search(r"Dumped by pg_dump version: (\d+)", listing)[1],
    )
    assert server == tool

    target = fresh_postgres_database("_restored")
    try:
        restored = subprocess.run(
            [DEPLOY / "restore.sh", dump, target], capture_output=True, text=True, check=False
        )
        again = subprocess.run(
            [DEPLOY / "restore.sh", dump, target], capture_output=True, text=True, check=False
        )
        counts = _row_counts(register.url), _row_counts(target)
        app = make_app(target)
        client = app.test_client()
        health = client.get("/healthz")
        listed = client.get("/api/v1/institutions")
        with app.app_context():
            db.engine.dispose()
    finally:
        drop_postgres_database(target)

    assert restored.returncode == 0, restored.stderr
    assert counts[0] == counts[1]
    assert counts[1]["institutions"] == INSTITUTIONS
    assert counts[1]["bookings"] >= 2
    assert health.status_code == 200
    assert listed.json["total"] == INSTITUTIONS
    # A database that holds tables is never written over.
    assert again.returncode != 0
    assert "restore into an empty one" in again.stderr
