"""The application factory, its paths and configuration."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import request

from careapp import create_app
from careapp.config import PROJECT_ROOT, ConfigError, load_config
from careapp.extensions import db


def test_factory_uses_top_level_templates_translations_and_migrations(app):
    assert Path(app.template_folder) == PROJECT_ROOT / "templates"
    assert app.config["BABEL_TRANSLATION_DIRECTORIES"] == str(PROJECT_ROOT / "translations")
    assert Path(app.extensions["migrate"].directory) == PROJECT_ROOT / "migrations"
    assert (PROJECT_ROOT / "templates" / "base.html").is_file()
    assert (PROJECT_ROOT / "migrations" / "env.py").is_file()
    assert (PROJECT_ROOT / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po").is_file()


def test_a_process_serving_pages_never_loads_alembic_or_icalendar(tmp_path):
    """Flask-Migrate (with Alembic and Mako, 12 MB) is loaded by what migrates, not by an app
    server: ``flask db upgrade`` migrates, and a fresh process that creates the app and serves
    pages has not imported it, nor icalendar (3 MB), loaded for a parent's calendar feed."""
    environment = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path}/app.db")
    environment.pop("REDIS_URL", None)
    flask = [sys.executable, "-m", "flask", "--app", "careapp"]
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([*flask, *command], env=environment, capture_output=True, check=True)
    serve = """
import sys
from careapp import create_app
client = create_app().test_client()
print("answered:", [client.get(path).status_code for path in ("/healthz", "/", "/registry")])
heavy = ("alembic", "mako", "icalendar")
print("loaded:", sorted(m for m in sys.modules if m.split(".")[0] in heavy))
"""
    served = subprocess.run(
        [sys.executable, "-c", serve], env=environment, capture_output=True, text=True, check=True
    )
    current = subprocess.run(
        [*flask, "db", "current"], env=environment, capture_output=True, text=True, check=True
    )

    assert "answered: [200, 200, 200]" in served.stdout
    assert "loaded: []" in served.stdout
    assert "(head)" in current.stdout


def test_factory_applies_overrides(app):
    assert app.testing is True
    assert app.config["SECRET_KEY"] == "test-secret"


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.setenv("CAREAPP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        load_config()


def test_production_marks_the_session_cookie_secure(monkeypatch):
    monkeypatch.setenv("CAREAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("SITE_URL", "https://tuoyu.example.gov.cn")
    config = load_config()
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SECRET_KEY"] == "from-the-environment"


def test_database_url_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/elsewhere.sqlite3")
    assert load_config()["SQLALCHEMY_DATABASE_URI"] == "sqlite:////tmp/elsewhere.sqlite3"


def test_default_database_lives_under_instance(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = create_app({"RATELIMIT_STORAGE_URI": "memory://"}).config["SQLALCHEMY_DATABASE_URI"]
    assert url == f"sqlite:///{PROJECT_ROOT / 'instance' / 'careapp.sqlite3'}"


@pytest.mark.parametrize("path", ["/", "/registry", "/api/v1/townships", "/healthz"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_unknown_page_answers_a_translated_404_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_unexpected_error_shows_the_error_page_without_a_traceback(fresh_app):
    @fresh_app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = fresh_app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret internals" not in body
    assert "Traceback" not in body
    assert '<html lang="zh-CN">' in body


def test_unexpected_api_error_answers_the_json_error_shape(fresh_app):
    @fresh_app.get("/api/v1/boom")
    def api_boom():
        raise RuntimeError("secret internals")

    response = fresh_app.test_client().get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json == {
        "error": {"code": "internal_error", "message": response.json["error"]["message"]}
    }
    assert "secret" not in response.json["error"]["message"]


def test_production_refuses_to_start_without_the_site_address(monkeypatch):
    monkeypatch.setenv("CAREAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.delenv("SITE_URL", raising=False)
    with pytest.raises(ConfigError, match="SITE_URL"):
        load_config()


@pytest.fixture
def production_app(monkeypatch, database_url):
    """The app as production configures it (on the test database)."""
    monkeypatch.setenv("CAREAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("SITE_URL", "https://tuoyu.example.gov.cn")
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def test_production_pages_ask_browsers_for_https_only(production_app, app):
    response = production_app.test_client().get("/login")

    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_development_pages_do_not_ask_for_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_behind_the_trusted_proxy_each_visitor_is_seen_by_their_own_address(production_app, app):
    @production_app.get("/whoami")
    def whoami():
        return request.remote_addr

    client = production_app.test_client()

    seen = [
        client.get("/whoami", headers={"X-Forwarded-For": address}).get_data(as_text=True)
        for address in ("203.0.113.7", "198.51.100.23")
    ]

    assert seen == ["203.0.113.7", "198.51.100.23"]


def test_without_a_trusted_proxy_a_forwarded_address_is_ignored(fresh_app):
    @fresh_app.get("/whoami")
    def whoami():
        return request.remote_addr

    forged = fresh_app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.7"})

    assert fresh_app.config["TRUSTED_PROXIES"] == 0
    assert forged.get_data(as_text=True) == "127.0.0.1"
