"""Accounts, passwords, log-in sessions, throttling and API tokens."""

import hashlib
import hmac
import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, select

from ihl_docs.core.audit import log as audit
from ihl_docs.core.audit.replay import differs_from_log
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.errors import Conflict, InvalidInput, LoginThrottled, NotFound
from ihl_docs.core.file_modes import PRIVATE_FILE, Kept, make_folder
from ihl_docs.core.models import ApiToken, LoginSession, LoginThrottle, Role, User

log = logging.getLogger(__name__)

password_hasher = PasswordHasher()  # argon2id with the library's recommended parameters
MIN_PASSWORD_LENGTH = 12
# A real hash to check against when the account does not exist, so timing reveals nothing.
_DUMMY_HASH = password_hasher.hash(secrets.token_hex(16))


def normalise_email(email: str) -> str:
    """The account name as stored; raises InvalidInput for an address that is not one."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput(f"Not a valid e-mail address: {exc}", {"email": str(exc)}) from None


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        message = f"The password must have at least {MIN_PASSWORD_LENGTH} characters."
        raise InvalidInput(message, {"password": message})


def create_user(session: Session, email: str, role: str, password: str, *, name: str = "",
                actor: str, must_change_password: bool = False) -> User:
    """Create an account; the e-mail must be new and the role one of the four."""
    email = normalise_email(email)
    if role not in Role.__members__:
        message = f"Unknown role {role!r}: choose admin, investigator, legal or auditor."
        raise InvalidInput(message, {"role": message})
    check_password_rules(password)
    if session.exec(select(User).where(User.email == email)).first():
        raise Conflict(f"An account for {email} already exists.", {"email": "already exists"})
    user = User(email=email, name=name.strip(), role=role,
                password_hash=password_hasher.hash(password),
                must_change_password=must_change_password)
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="create", entity="user", entity_id=email,
                 after=audit.snapshot(user))
    return user


def change_password(session: Session, user: User, new_password: str, *, actor: str) -> None:
    check_password_rules(new_password)
    before = audit.snapshot(user)
    user.password_hash = password_hasher.hash(new_password)
    user.must_change_password = False
    user.version += 1
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="change_password", entity="user",
                 entity_id=user.email, before=before, after=audit.snapshot(user))


def set_active(session: Session, user: User, active: bool, *, actor: User) -> None:
    """Deactivate an account (its sessions and tokens stop working at once) or reactivate it."""
    if user.id == actor.id and not active:
        raise InvalidInput("You cannot deactivate your own account.")
    if user.is_active == active:
        return
    before = audit.snapshot(user)
    user.is_active = active
    user.version += 1
    session.add(user)
    session.flush()
    audit.record(session, actor=actor.email, action="activate" if active else "deactivate",
                 entity="user", entity_id=user.email, before=before, after=audit.snapshot(user))


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def _throttle_key(secret_key: str, email: str) -> str:
    return hmac.new(secret_key.encode(), email.strip().lower().encode(), hashlib.sha256).hexdigest()


def authenticate(session: Session, email: str, password: str, *, secret_key: str,
                 max_failures: int = 10, lockout: timedelta = timedelta(minutes=15)) -> User | None:
    """Check a password; after `max_failures` failures the account name is refused for a while.

    Unknown and known account names are treated alike, so the answers reveal nothing.
    """
    now = utcnow()
    key = _throttle_key(secret_key, email)
    throttle = session.get(LoginThrottle, key)
    if throttle and throttle.locked_until and throttle.locked_until > now:
        minutes = max(1, int((throttle.locked_until - now).total_seconds() // 60) + 1)
        raise LoginThrottled(
            f"Too many failed attempts. Log-in is blocked for this account for about "
            f"{minutes} minute(s)."
        )
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None or not user.is_active:
        ok = verify_password(_DUMMY_HASH, password) and False
    else:
        ok = verify_password(user.password_hash, password)
    if ok:
        if throttle:
            session.delete(throttle)
        if not account_vouched(session, user):
            return None
        if password_hasher.check_needs_rehash(user.password_hash):
            before = audit.snapshot(user)
            user.password_hash = password_hasher.hash(password)
            session.add(user)
            session.flush()
            audit.record(session, actor=user.email, action="rehash_password", entity="user",
                         entity_id=user.email, before=before, after=audit.snapshot(user))
        return user
    if throttle is None or (throttle.locked_until and throttle.locked_until <= now):
        if throttle:
            session.delete(throttle)
            session.flush()
        throttle = LoginThrottle(key=key, failures=0, first_failure_at=now)
    throttle.failures += 1
    if throttle.failures >= max_failures:
        throttle.locked_until = now + lockout
    session.add(throttle)
    return None


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_login_session(session: Session, user: User, hours: int) -> str:
    """Open a server-side session; returns the token the cookie carries (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(id=_digest(token), user_id=user.id,
                             expires_at=utcnow() + timedelta(hours=hours)))
    return token


def user_for_login_session(session: Session, token: str) -> User | None:
    login = session.get(LoginSession, _digest(token))
    if login is None or login.ended_at is not None or login.expires_at <= utcnow():
        return None
    user = session.get(User, login.user_id)
    return user if user and user.is_active and account_vouched(session, user) else None


def account_vouched(session: Session, user: User) -> bool:
    """Whether the account's role, state and password hash are what its audit entries recorded.
    An account raised to administrator, re-activated or given a known password in the database,
    without the application, is refused (and named by `ihl verify`)."""
    return _vouched(session, user, "user", user.email, f"account {user.email}",
                    ("role", "is_active", "password_hash_sha256"))


def _token_vouched(session: Session, row: ApiToken) -> bool:
    return _vouched(session, row, "api_token", str(row.id), f"API token #{row.id}",
                    ("user_id", "token_hash_sha256", "revoked_at"))


def _vouched(session: Session, row, entity: str, entity_id: str, name: str,
             fields: tuple[str, ...]) -> bool:
    """Whether `fields` of the row are what its audit entries recorded; a refusal is logged."""
    state = audit.snapshot(row)
    changed = differs_from_log(session, entity, entity_id, {f: state[f] for f in fields})
    if changed:
        log.warning("Refused %s: its %s differ(s) from the audit log", name, ", ".join(changed))
    return not changed


def end_login_session(session: Session, token: str) -> None:
    login = session.get(LoginSession, _digest(token))
    if login and login.ended_at is None:
        login.ended_at = utcnow()
        session.add(login)


def create_token(session: Session, email: str, *, name: str = "", actor: str) -> str:
    """Issue an API token for a user; returns it once, keeps only its hash."""
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        raise NotFound(f"No account with the e-mail {email.strip()}.")
    token = "ihl_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_hash=_digest(token))
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="create", entity="api_token",
                 entity_id=str(row.id), after=audit.snapshot(row))
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _digest(token))).first()
    if row is None or row.revoked_at is not None or not _token_vouched(session, row):
        return None
    user = session.get(User, row.user_id)
    return user if user and user.is_active and account_vouched(session, user) else None


def actor_name(user: User | None) -> str:
    return user.email if user is not None else "system"


def create_first_admin(session: Session, email: str, *, actor: str) -> str | None:
    """On a database with no account, an administrator with a one-time password (returned)."""
    if session.exec(select(User).limit(1)).first() is not None:
        return None
    password = generate_password()
    create_user(session, email, Role.admin, password, name="Administrator", actor=actor,
                must_change_password=True)
    return password


DEFAULT_ADMIN_EMAIL = "admin@example.org"


PASSWORD_FILE = "first-admin-password.txt"


def first_admin_step(session: Session, options: dict) -> list[str]:
    """`ihl init`: on a database with no account, create an administrator; its one-time
    password is shown framed, and kept in a file only its owner may read (mode 0600) in the
    instance folder until it is changed."""
    email = options.get("admin_email") or DEFAULT_ADMIN_EMAIL
    password = create_first_admin(session, email, actor=options["actor"])
    if not password:
        return []
    path = Path(options["instance_dir"]) / PASSWORD_FILE
    write_private(path, f"{email}\n{password}\n")
    return [f"Created the administrator {email}.", *password_notice(email, password, path)]


def password_notice(email: str, password: str, path: Path) -> list[str]:
    """The framed lines that give the first administrator's one-time password."""
    lines = [f"Log in as {email}",
             f"One-time password (change it at first log-in): {password}",
             f"Also kept, readable by you alone, in {path}"]
    width = max(map(len, lines))
    rule = "+" + "-" * (width + 2) + "+"
    return [rule, *(f"| {line.ljust(width)} |" for line in lines), rule]


def kept_password(app) -> list[Kept]:
    """The one-time password's file, the service's alone (`ihl init`, `ihl verify`)."""
    return [Kept(Path(app.instance_path) / PASSWORD_FILE, PRIVATE_FILE)]


def pending_password_notice(instance_dir: str) -> list[str]:
    """The framed notice again while the one-time password has not been changed, else []."""
    path = Path(instance_dir) / PASSWORD_FILE
    try:
        email, password = path.read_text(encoding="utf-8").split()[:2]
    except (OSError, ValueError):
        return []
    return password_notice(email, password, path)


def forget_one_time_password(instance_dir: str, email: str) -> None:
    """Remove the kept one-time password once its account has chosen its own."""
    path = Path(instance_dir) / PASSWORD_FILE
    try:
        if path.read_text(encoding="utf-8").split()[:1] == [email]:
            path.unlink()
    except OSError:
        pass


def write_private(path: Path, text: str) -> None:
    """Write `text` to a file that only its owner may read or write (0600), replacing it."""
    make_folder(path.parent)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
