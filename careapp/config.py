"""Configuration: safe development defaults; production settings only from the environment."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"

LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"


class ConfigError(RuntimeError):
    """Raised when the environment does not describe a usable configuration."""


def default_database_url() -> str:
    """The embedded SQLite database under ``instance/``."""
    return f"sqlite:///{INSTANCE_DIR / 'careapp.sqlite3'}"


#: The SMS templates (careapp.services.sms.TEMPLATES), each with its provider code.
SMS_TEMPLATE_KEYS = (
    "sign_in_code",
    "booking_confirmed",
    "application_received",
    "offer",
    "accepted",
    "declined",
    "cancelled",
    "deregistered",
    "revoked",
    "reminder",
    "new_application",
    "family_invitation",
    "family_answered",
)


def sms_settings(env: str) -> dict:
    """The SMS backend and the Alibaba Cloud account, sign name and template codes."""
    backend = os.environ.get("SMS_BACKEND", "aliyun" if env == "production" else "console")
    if backend not in ("console", "aliyun"):
        raise ConfigError(f"SMS_BACKEND must be console or aliyun, not {backend!r}")
    settings = {
        "SMS_BACKEND": backend,
        "SMS_SIGN_NAME": os.environ.get("ALIYUN_SMS_SIGN_NAME", "晋江托育"),
        "ALIYUN_SMS_ACCESS_KEY_ID": os.environ.get("ALIYUN_SMS_ACCESS_KEY_ID"),
        "ALIYUN_SMS_ACCESS_KEY_SECRET": os.environ.get("ALIYUN_SMS_ACCESS_KEY_SECRET"),
        "ALIYUN_SMS_ENDPOINT": os.environ.get("ALIYUN_SMS_ENDPOINT", "dysmsapi.aliyuncs.com"),
        "ALIYUN_SMS_PROTOCOL": os.environ.get("ALIYUN_SMS_PROTOCOL", "HTTPS"),
    }
    for key in SMS_TEMPLATE_KEYS:
        name = "SMS_TEMPLATE_" + key.upper()
        settings[name] = os.environ.get("ALIYUN_" + name)
    return settings


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask configuration from the environment, then apply ``overrides``."""
    env = os.environ.get("CAREAPP_ENV", "development")
    if env not in ("development", "production"):
        raise ConfigError(f"CAREAPP_ENV must be development or production, not {env!r}")
    secret_key = os.environ.get("SECRET_KEY")
    if env == "production" and not secret_key:
        raise ConfigError("SECRET_KEY must be set when CAREAPP_ENV=production")
    site_url = os.environ.get("SITE_URL")
    if env == "production" and not site_url:
        raise ConfigError("SITE_URL must be set when CAREAPP_ENV=production (links in e-mail)")
    config = {
        "CAREAPP_ENV": env,
        "CAREAPP_REGION": os.environ.get("CAREAPP_REGION", "jinjiang"),
        "SECRET_KEY": secret_key or "development-only-secret-key",
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or default_database_url(),
        # Idle connections are tried before use instead (careapp.database): no ping per request.
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        # A database that does not answer is given up within seconds: a 503, not a hang.
        "DATABASE_CONNECT_TIMEOUT": int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "3")),
        "DATABASE_STATEMENT_TIMEOUT_MS": int(
            os.environ.get("DATABASE_STATEMENT_TIMEOUT_MS", "15000")
        ),
        # Forms are small: a larger body is refused (413); the document upload route alone
        # accepts UPLOAD_MAX_BYTES (careapp/institutions/documents.py).
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "REDIS_URL": os.environ.get("REDIS_URL"),
        # Public pages for anonymous visitors kept as rendered bytes (careapp/cache.py): in
        # Redis under this prefix when REDIS_URL is set, else up to so many per process.
        "PAGE_CACHE": os.environ.get("PAGE_CACHE", "on").lower() != "off",
        "PAGE_CACHE_PREFIX": os.environ.get("PAGE_CACHE_PREFIX", "careapp:"),
        "PAGE_CACHE_LOCAL_ENTRIES": int(os.environ.get("PAGE_CACHE_LOCAL_ENTRIES", "2000")),
        # Search cards' register-only parts kept per process (careapp/fragments.py): two
        # languages of 2,000 institutions, about 4 MB.
        "CARD_FACTS_ENTRIES": int(os.environ.get("CARD_FACTS_ENTRIES", "4000")),
        # Limits hold across workers: in Redis, or else in a file every local worker opens.
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL")
        or "careapp-sqlite://"
        + os.environ.get("CAREAPP_RATE_LIMITS_FILE", str(INSTANCE_DIR / "rate-limits.sqlite3")),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_LIMIT_PER_IP": "20 per 10 minutes",
        "LOGIN_LIMIT_PER_ACCOUNT": "5 per 10 minutes",
        "SIGNUP_LIMIT_PER_IP": "10 per hour",
        # Reports of a concern: how many one address may send, and how often it may look one
        # up by its number (a guesser of numbers is slowed, a reporter never is).
        "REPORT_LIMIT_PER_IP": "5 per hour;20 per day",
        "REPORT_STATUS_LIMIT_PER_IP": "10 per 10 minutes",
        # Working days the bureau has to answer a report. No seed policy sets the period; 15
        # working days matches the national filing rules' period for notifying a problem.
        "REPORT_ANSWER_WORKING_DAYS": int(os.environ.get("REPORT_ANSWER_WORKING_DAYS", "15")),
        # Sign-up mails to one address; beyond it the answer stays the same, no mail is sent.
        "SIGNUP_MAILS_PER_ADDRESS": "3 per hour",
        "SIGN_UP_LINK_MAX_AGE": 24 * 3600,
        # SMS codes: how long one works, how often it may be tried, how soon another is sent.
        "SMS_CODE_MAX_AGE": 5 * 60,
        "SMS_CODE_MAX_ATTEMPTS": 5,
        "SMS_CODE_RESEND_SECONDS": 60,
        "SMS_CODES_PER_NUMBER": "5 per hour;10 per day",
        "SMS_CODES_PER_IP": "20 per hour",
        "PASSWORD_RESET_MAX_AGE": 3600,
        # A session ends after this long unused, and after this long in any case.
        "SESSION_IDLE_MINUTES": int(os.environ.get("SESSION_IDLE_MINUTES", str(12 * 60))),
        "SESSION_LIFETIME_DAYS": int(os.environ.get("SESSION_LIFETIME_DAYS", "30")),
        # A one-time sign-in link, sent when an account's password attempts are used up.
        "SIGN_IN_LINK_MAX_AGE": 15 * 60,
        "PASSWORD_HASH_PROFILE": "RFC_9106_LOW_MEMORY",
        "MAIL_BACKEND": os.environ.get(
            "MAIL_BACKEND", "smtp" if env == "production" else "console"
        ),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_USE_TLS": os.environ.get("MAIL_USE_TLS", "false").lower() == "true",
        "MAIL_SENDER": os.environ.get("MAIL_SENDER", "noreply@careapp.invalid"),
        **sms_settings(env),
        # Whole-register downloads built by ``jobs run`` (careapp/open_data_files.py): a folder,
        # or "off"; unset means instance/open-data (and off under TESTING).
        "OPEN_DATA_DIR": os.environ.get("OPEN_DATA_DIR", ""),
        # A child's details are erased this many months after its last booking ends.
        "CHILD_DATA_RETENTION_MONTHS": int(os.environ.get("CHILD_DATA_RETENTION_MONTHS", "12")),
        "SITE_URL": site_url or "http://127.0.0.1:5000",
        # Filing document scans: kept outside the web root under random names, each at most
        # UPLOAD_MAX_BYTES; only the upload route accepts a body that large.
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER", str(INSTANCE_DIR / "uploads")),
        "UPLOAD_MAX_BYTES": int(os.environ.get("UPLOAD_MAX_BYTES", str(5 * 1024 * 1024))),
        # Keys the hash of ID card numbers (staff register, ban list); the secret key if unset.
        # Changing it makes stored hashes unmatchable, so production sets it once and keeps it.
        "IDENTITY_HASH_KEY": os.environ.get("IDENTITY_HASH_KEY"),
        # How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        "BABEL_DEFAULT_LOCALE": DEFAULT_LANGUAGE,
        # The one clock's zone: local dates and hours of care, times people read.
        "SITE_TIME_ZONE": os.environ.get("SITE_TIME_ZONE", "Asia/Shanghai"),
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("SITE_TIME_ZONE", "Asia/Shanghai"),
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "translations"),
        "LANGUAGES": LANGUAGES,
        "SEARCH_PER_PAGE": 20,
        "API_MAX_PER_PAGE": 100,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "WTF_CSRF_TIME_LIMIT": 3600 * 8,
    }
    config.update(overrides or {})
    return config
