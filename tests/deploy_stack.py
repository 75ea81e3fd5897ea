"""The production setup of deploy/ on loopback: gunicorn app servers behind Debian's nginx.

nginx runs as a child process with a configuration rendered from deploy/nginx/ into a
temporary folder (loopback ports, a self-signed certificate, nothing under /etc or /var);
each app server is gunicorn with deploy/gunicorn.conf.py, in a process group of its own so
that it can be killed outright, master and workers at once.
"""

import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from careapp.config import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
SITE = DEPLOY / "nginx" / "careapp.conf"
PROXY_SNIPPET = DEPLOY / "nginx" / "careapp-proxy.conf"
GUNICORN_CONFIG = DEPLOY / "gunicorn.conf.py"
NGINX = shutil.which("nginx") or next(
    (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)),
    None,
)
#: Seconds to wait for a server to answer at start, and for one request.
STARTUP_TIMEOUT = 30
REQUEST_TIMEOUT = 30
#: Sent with every request: Flask-Login's strong session protection hashes it into sessions.
USER_AGENT = "careapp-deploy-test/1"

#: nginx's main configuration around the rendered site: what Debian's /etc/nginx/nginx.conf
#: sets, with every path in the temporary folder.
MAIN_CONFIG = """\
daemon off;
{user}worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log info;
events {{
    worker_connections 256;
}}
http {{
    types {{
        text/html html;
        text/css css;
        application/javascript js;
        image/svg+xml svg;
        image/png png;
        image/x-icon ico;
    }}
    default_type application/octet-stream;
    sendfile on;
    gzip on;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    include site.conf;
}}
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def refuses_connections(port: int) -> bool:
    """Whether a connection to ``port`` on 127.0.0.1 is refused (nothing listens there)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


def _substitute(pattern: str, replacement, text: str, flags=re.MULTILINE) -> str:
    """``re.subn`` that insists on at least one match: a changed site breaks the test loudly."""
    result, count = re.subn(pattern, replacement, text, flags=flags)
    if not count:
        raise AssertionError(f"deploy/nginx/careapp.conf no longer has {pattern!r}")
    return result


def upstream_parameters(site: str) -> tuple[int, str]:
    """How many app servers the site's upstream names, and the first one's parameters."""
    block = re.search(r"^upstream careapp \{(.*?)^\}", site, re.MULTILINE | re.DOTALL)
    if block is None:
        raise AssertionError("deploy/nginx/careapp.conf has no upstream careapp block")
    servers = re.findall(r"^\s*server\s+\S+((?:\s+[^;\s]+)*);", block.group(1), re.MULTILINE)
    return len(servers), servers[0].strip() if servers else ""


def render_site(site: str, app_ports: list[int], https_port: int, http_port: int, prefix: Path):
    """The deploy site on loopback: the upstream names ``app_ports`` with the site's own
    health-check parameters, the TLS server listens on ``https_port`` with the certificate in
    ``prefix``/tls, the redirecting one on ``http_port``; logs go to ``prefix``/logs and
    static files come from this checkout."""
    _count, parameters = upstream_parameters(site)
    # Comments go (they name the system paths to copy the files to); no '#' is in a value.
    site = re.sub(r"[ \t]*#.*$\n?", "", site, flags=re.MULTILINE)
    servers = "".join(f"    server 127.0.0.1:{port} {parameters};\n" for port in app_ports)

    def loopback_servers(block: re.Match) -> str:
        kept = [line for line in block[2].splitlines(True) if not re.match(r"\s*server\s", line)]
        return block[1] + "".join(kept) + servers + block[3]

    site = _substitute(
        r"^(upstream careapp \{\n)(.*?)(^\})", loopback_servers, site, re.MULTILINE | re.DOTALL
    )
    site = _substitute(r"^\s*listen \[::\]:\d+.*\n", "", site)
    site = _substitute(r"listen 443 ", f"listen 127.0.0.1:{https_port} ", site)
    site = _substitute(r"listen 80;", f"listen 127.0.0.1:{http_port};", site)
    site = _substitute(r"/etc/ssl/careapp/", f"{prefix}/tls/", site)
    site = _substitute(r"/srv/careapp/", f"{PROJECT_ROOT}/", site)
    site = _substitute(r"/var/log/nginx/", f"{prefix}/logs/", site)
    site = _substitute(r"/var/www/acme", f"{prefix}/acme", site)
    leftover = re.findall(r"(?<![\w.])/(?:etc|var|run|usr)/\S*", site)
    if leftover:
        raise AssertionError(f"the rendered site still names system paths: {leftover}")
    return site


def make_certificate(folder: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 and its key (the names the site expects);
    returns the certificate's path, which clients then trust."""
    certificate = folder / "fullchain.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(folder / "privkey.pem"), "-out", str(certificate),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return certificate


def write_nginx_config(prefix: Path, app_ports: list[int], https_port: int, http_port: int):
    """Write nginx.conf, the rendered site, the proxy snippet and a certificate into
    ``prefix``; returns the certificate's path."""
    for folder in ("logs", "tmp", "snippets", "acme", "tls"):
        (prefix / folder).mkdir(parents=True, exist_ok=True)
    certificate = make_certificate(prefix / "tls")
    site = render_site(SITE.read_text(), app_ports, https_port, http_port, prefix)
    (prefix / "site.conf").write_text(site)
    shutil.copy(PROXY_SNIPPET, prefix / "snippets" / "careapp-proxy.conf")
    # As root, nginx's workers would drop to "nobody", who cannot enter pytest's folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(MAIN_CONFIG.format(prefix=prefix, user=user))
    return certificate


def nginx_command(prefix: Path, *arguments: str) -> list[str]:
    """nginx with the configuration in ``prefix``."""
    return [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), *arguments]


def check_nginx_config(prefix: Path) -> subprocess.CompletedProcess:
    """``nginx -t`` of the configuration in ``prefix``."""
    return subprocess.run(nginx_command(prefix, "-t"), capture_output=True, text=True, check=False)


@dataclass
class Answer:
    """One HTTP answer: status, headers and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def location(self) -> str:
        """The Location header, or an empty string."""
        return self.headers.get("location", "")

    def cookies(self) -> dict[str, str]:
        """Cookies this answer sets (name to value)."""
        found = {}
        for name, value in self.headers.items():
            if name == "set-cookie":
                for cookie in value.split("\n"):
                    key, _, rest = cookie.partition("=")
                    found[key.strip()] = rest.split(";", 1)[0]
        return found


def request(
    port: int, method: str, path: str, headers=None, body: bytes | None = None, tls=None
) -> Answer:
    """One request to 127.0.0.1:``port`` on a connection of its own (HTTPS with ``tls``,
    an SSL context)."""
    if tls is None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    else:
        connection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=REQUEST_TIMEOUT, context=tls
        )
    try:
        connection.request(
            method, path, body=body, headers={"User-Agent": USER_AGENT, **(headers or {})}
        )
        response = connection.getresponse()
        content = response.read()
        collected: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            collected[key] = f"{collected[key]}\n{value}" if key in collected else value
        return Answer(response.status, collected, content)
    finally:
        connection.close()


def wait_until_answering(process: subprocess.Popen, port: int, name: str, tls=None) -> None:
    """Return once /healthz on ``port`` answers 200; raise if ``process`` exits or never does."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with status {process.returncode}")
        try:
            if request(port, "GET", "/healthz", tls=tls).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer /healthz within {STARTUP_TIMEOUT} s")


@dataclass
class AppServer:
    """One gunicorn app server (master and workers in a process group of their own)."""

    port: int
    process: subprocess.Popen
    log_folder: Path

    @property
    def address(self) -> str:
        """How nginx's log names it."""
        return f"127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL to the master and every worker at once, as a crash or power loss would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STARTUP_TIMEOUT)

    def stop(self) -> None:
        """Stop at once (gunicorn's quick shutdown), or kill after a while."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGQUIT)
        try:
            self.process.wait(timeout=STARTUP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()

    def wait_until_ready(self) -> None:
        """Return once the server answers /healthz; stop it and raise if it never does."""
        try:
            wait_until_answering(self.process, self.port, f"gunicorn on {self.port}")
        except RuntimeError as error:
            self.stop()
            raise RuntimeError(f"{error}\n{self.error_log()[-3000:]}") from None

    def error_log(self) -> str:
        """What gunicorn and the app wrote to the error log."""
        path = self.log_folder / f"app-{self.port}.error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def access_log(self) -> str:
        """gunicorn's access log of this server."""
        path = self.log_folder / f"app-{self.port}.access.log"
        return path.read_text(errors="replace") if path.exists() else ""


def launch_app_server(port: int, environment: dict[str, str], log_folder: Path) -> AppServer:
    """Start gunicorn with deploy/gunicorn.conf.py on 127.0.0.1:``port`` (not waiting)."""
    env = dict(
        os.environ,
        **environment,
        CAREAPP_BIND=f"127.0.0.1:{port}",
        CAREAPP_ACCESS_LOG=str(log_folder / f"app-{port}.access.log"),
        CAREAPP_ERROR_LOG=str(log_folder / f"app-{port}.error.log"),
    )
    command = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG)]
    process = subprocess.Popen(
        [*command, "careapp:create_app()"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return AppServer(port, process, log_folder)


@dataclass
class Proxy:
    """nginx in front of the app servers."""

    https_port: int
    http_port: int
    process: subprocess.Popen
    prefix: Path
    tls: ssl.SSLContext
    servers: list[AppServer] = field(default_factory=list)

    def get(self, path: str, headers=None) -> Answer:
        """A GET over HTTPS."""
        return request(self.https_port, "GET", path, headers, tls=self.tls)

    def post(self, path: str, fields: str, headers=None) -> Answer:
        """A form POST over HTTPS, from a page of the site (the Referer HTTPS forms need)."""
        form = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"https://127.0.0.1{path}",
            **(headers or {}),
        }
        return request(self.https_port, "POST", path, form, fields.encode(), tls=self.tls)

    def get_plain(self, path: str) -> Answer:
        """A GET over plain HTTP (port 80's server)."""
        return request(self.http_port, "GET", path)

    def log_lines(self, since: int = 0) -> list[str]:
        """nginx's access log of the site (the deploy log format), from line ``since`` on."""
        path = self.prefix / "logs" / "careapp.access.log"
        return path.read_text(errors="replace").splitlines()[since:] if path.exists() else []

    def error_log(self) -> str:
        """nginx's error log."""
        path = self.prefix / "logs" / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop nginx (fast shutdown)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STARTUP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_proxy(prefix: Path, servers: list[AppServer]) -> Proxy:
    """nginx with the rendered deploy site in front of ``servers``, answering /healthz."""
    https_port, http_port = free_port(), free_port()
    certificate = write_nginx_config(
        prefix, [server.port for server in servers], https_port, http_port
    )
    tls = ssl.create_default_context(cafile=str(certificate))
    with (prefix / "logs" / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen(nginx_command(prefix), stdout=subprocess.DEVNULL, stderr=stderr)
    proxy = Proxy(https_port, http_port, process, prefix, tls, servers)
    try:
        wait_until_answering(process, https_port, "nginx", tls)
    except RuntimeError as error:
        proxy.stop()
        stderr = (prefix / "logs" / "stderr.log").read_text(errors="replace")
        raise RuntimeError(f"{error}\n{stderr}\n{proxy.error_log()[-3000:]}") from None
    return proxy


@dataclass(frozen=True)
class LogLine:
    """One line of the deploy log format: when it was written (``msec``) and how long the
    request took, what it was, and which app servers were tried, in order."""

    msec: float
    method: str
    path: str
    status: int
    request_time: float
    upstreams: tuple[str, ...]
    upstream_statuses: tuple[str, ...]


LOG_LINE = re.compile(
    r'\] (?P<msec>[\d.]+) "(?P<method>\S+) (?P<path>\S*)" (?P<status>\d+) \d+ '
    r"(?P<request_time>[\d.]+) "
    r'upstream="(?P<upstream>[^"]*)" upstream_status="(?P<upstream_status>[^"]*)"'
)


def _split_tries(value: str) -> tuple[str, ...]:
    """``$upstream_addr`` or ``$upstream_status`` as a tuple: one entry per server tried."""
    return tuple(part.strip() for part in re.split(r"[,:]\s", value) if part.strip())


def parse_log(lines: list[str]) -> list[LogLine]:
    """The lines of nginx's access log in the deploy format."""
    parsed = []
    for line in lines:
        match = LOG_LINE.search(line)
        if match is None:
            raise AssertionError(f"an access log line not in the deploy format: {line!r}")
        upstream = match["upstream"]
        parsed.append(
            LogLine(
                msec=float(match["msec"]),
                method=match["method"],
                path=match["path"],
                status=int(match["status"]),
                request_time=float(match["request_time"]),
                upstreams=() if upstream == "-" else _split_tries(upstream),
                upstream_statuses=_split_tries(match["upstream_status"]),
            )
        )
    return parsed
