"""Configuration: defaults, overridden by IHL_* environment variables, then by test_config."""

import os
import secrets
import socket
from datetime import timedelta
from pathlib import Path

from ihl_docs.core.file_modes import make_folder

_CHECKOUT = Path(__file__).resolve().parents[2]
# In a checkout, instance/ and evidence/ live beside the package; once installed, in the
# directory the command is run from.
PROJECT_ROOT = _CHECKOUT if (_CHECKOUT / "pyproject.toml").exists() else Path.cwd()


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance_path: Path) -> str:
    """Return the instance's secret key, generating and keeping it on first use."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    make_folder(instance_path)
    key = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


class ConfigurationError(ValueError):
    """An IHL_* variable that cannot be used, named in one sentence."""


def _number(env: dict, name: str, default: int) -> int:
    text = env.get(name, str(default))
    try:
        return int(text)
    except ValueError:
        raise ConfigurationError(f"IHL_{name} must be a whole number, not {text!r}.") from None


def _list(text: str) -> list[str]:
    """Items separated by commas or white space."""
    return [item for item in text.replace(",", " ").split() if item]


def _web_address(item: str) -> bool:
    return item.startswith(("http://", "https://"))


def _checkpoint_witnesses(env: dict, instance_path: Path) -> list[str]:
    """Where each signed checkpoint is also written: files (journals, read back by verification)
    and http(s) addresses (sent, not read back). At least one file, so there is a journal."""
    default = str(instance_path / "checkpoints.journal")
    items = _list(env.get("CHECKPOINT_WITNESSES", default))
    for item in items:
        if "://" in item and not _web_address(item):
            raise ConfigurationError(f"IHL_CHECKPOINT_WITNESSES: {item!r} is neither a file nor "
                                     "an http(s) address.")
    if all(_web_address(item) for item in items):
        raise ConfigurationError("IHL_CHECKPOINT_WITNESSES must name at least one file: "
                                 "verification reads the checkpoint journal back from files.")
    return items


def _time_stamping(env: dict) -> tuple[list[str], str | None]:
    """The RFC 3161 time-stamping authorities, and the certificates their tokens must chain to."""
    urls, ca_file = _list(env.get("TSA_URLS", "")), env.get("TSA_CA_FILE") or None
    for url in urls:
        if not _web_address(url):
            raise ConfigurationError(f"IHL_TSA_URLS: {url!r} is not an http(s) address.")
    if urls and not ca_file:
        raise ConfigurationError("IHL_TSA_URLS is set but IHL_TSA_CA_FILE is not: name the "
                                 "certificates (PEM) the time-stamping authorities chain to.")
    return urls, ca_file


def load_config(instance_path: Path, environ=os.environ, overrides: dict | None = None) -> dict:
    """Build the configuration mapping from defaults, IHL_* variables and `overrides`."""
    env = {k[4:]: v for k, v in environ.items() if k.startswith("IHL_")}
    tsa_urls, tsa_ca_file = _time_stamping(env)
    config = {
        "DATABASE_URL": env.get("DATABASE_URL", f"sqlite:///{instance_path / 'ihl.sqlite3'}"),
        "EVIDENCE_DIR": env.get("EVIDENCE_DIR", str(PROJECT_ROOT / "evidence")),
        # Background jobs: SQLite in the instance folder, or redis://HOST:PORT/DB.
        "QUEUE_URL": env.get("QUEUE_URL", f"sqlite:///{instance_path / 'queue.sqlite3'}"),
        "QUEUE_IMMEDIATE": False,  # run each job inline, when it is queued (tests)
        "MAX_UPLOAD_MB": _number(env, "MAX_UPLOAD_MB", 4096),
        "SECURE_COOKIES": _flag(env.get("SECURE_COOKIES", "0")),
        "LOGIN_MAX_FAILURES": _number(env, "LOGIN_MAX_FAILURES", 10),
        "LOGIN_LOCKOUT_MINUTES": _number(env, "LOGIN_LOCKOUT_MINUTES", 15),
        "SESSION_HOURS": min(_number(env, "SESSION_HOURS", 12), 12),
        "PAGE_SIZE": 25,
        # The Ed25519 key that signs audit checkpoints: outside the database, made on first use.
        "SIGNING_KEY": env.get("SIGNING_KEY", str(instance_path / "audit_signing_key")),
        # How the certificate of a signed dossier names the instance: the same on every worker.
        "INSTANCE_NAME": env.get("INSTANCE_NAME") or socket.gethostname(),
        "CHECKPOINT_MINUTES": _number(env, "CHECKPOINT_MINUTES", 60),
        # Each checkpoint is also appended to these journals (files) and sent to these http(s)
        # witnesses, outside the database; and timestamped by these time-stamping authorities.
        "CHECKPOINT_WITNESSES": _checkpoint_witnesses(env, instance_path),
        "TSA_URLS": tsa_urls,
        "TSA_CA_FILE": tsa_ca_file,
        # A running job silent (no heartbeat) this long has lost its worker: marked failed.
        "JOB_SILENT_MINUTES": _number(env, "JOB_SILENT_MINUTES", 5),
        # How many reverse proxies stand in front (their X-Forwarded-* headers are believed).
        "PROXIES": _number(env, "PROXIES", 0),
    }
    config.update(overrides or {})
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = env.get("SECRET_KEY") or _secret_key(instance_path)
    return config


def flask_settings(config: dict) -> dict:
    """Derive Flask's own settings from ours."""
    return {
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": config["SECURE_COOKIES"],
        "SESSION_COOKIE_NAME": "ihl_session",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=config["SESSION_HOURS"]),
        "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
        "MAX_CONTENT_LENGTH": config["MAX_UPLOAD_MB"] * 1024 * 1024 + 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": config["SESSION_HOURS"] * 3600,
        "WTF_CSRF_SSL_STRICT": config["SECURE_COOKIES"],
        "JSON_SORT_KEYS": False,
    }


def template_folder() -> str:
    """The templates: the checkout's templates/ folder, or the installed package's copy."""
    checkout = PROJECT_ROOT / "templates"
    return str(checkout if checkout.is_dir() else Path(__file__).resolve().parents[1] / "templates")
