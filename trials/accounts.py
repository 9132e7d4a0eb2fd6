"""Users and API tokens: passwords hashed with scrypt, tokens kept only as their sha256."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from trials import audit
from trials.models import ApiToken, AuditEvent, Port, Role, User, utcnow

MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """Raised with a message for the person who asked, when an account change cannot be made."""


def hash_token(token: str) -> str:
    """Hash a bearer token; a stolen database then holds no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _check_role_port(session: Session, role: Role, port: str | None) -> None:
    """Partners must belong to a port, since their scope is their port; a port must be a known one."""
    if role == Role.partner and port is None:
        raise AccountError("a partner must belong to a port (UN/LOCODE)")
    if port is not None and session.get(Port, port) is None:
        raise AccountError(f"unknown port {port!r}; use one of the partner ports' UN/LOCODEs")


def add_user(session: Session, *, email: str, password: str, role: Role, port: str | None, actor: str) -> User:
    """Create a user; partners must belong to a port, since their scope is their port."""
    email = email.strip().lower()
    if "@" not in email:
        raise AccountError(f"{email!r} is not an email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    _check_role_port(session, role, port)
    if session.exec(select(User).where(User.email == email)).first() is not None:
        raise AccountError(f"a user {email!r} already exists")
    user = User(email=email, password_hash=generate_password_hash(password), role=role, port_locode=port)
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.add", object=f"user:{email}", after={"role": role, "port": port})
    return user


@functools.cache
def _decoy_hash() -> str:
    """A hash of no one's password, checked for unknown emails so they take as long as known ones."""
    return generate_password_hash(secrets.token_urlsafe(32))


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """Return the active user with this email and password, or None; the same answer and the same work (one hash
    check) for every failure, so timing cannot tell a known email from an unknown one."""
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    matches = check_password_hash(user.password_hash if user is not None else _decoy_hash(), password)
    if user is None or not user.active or not matches:
        return None
    return user


#: Audit actions of a sign-in: under way (its password not yet checked), failed, succeeded, and ended by sign-out.
SIGN_IN_PENDING, SIGN_IN_FAILED, SIGN_IN, SIGN_OUT = "sign_in.pending", "sign_in.failed", "sign_in", "sign_out"
#: The key a sign-in event's `after` gets when its session is signed out: the time it ended.
SESSION_ENDED = "signed_out_at"
#: The first key of the PostgreSQL advisory locks that queue one email's sign-in attempts (the second is the email's
#: hash); two-key locks never collide with the one-key import lock.
SIGN_IN_LOCK_CLASS = 0x7369  # "si"


def begin_sign_in(session: Session, *, email: str, limit: int, since: datetime) -> int | None:
    """Record a sign-in attempt as under way, unless this email's failed and unfinished attempts since `since`
    reach the limit (then None): count and record in one locked step, so parallel attempts cannot all pass."""
    if session.get_bind().dialect.name == "postgresql":
        key = sa.func.hashtext(email)
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(SIGN_IN_LOCK_CLASS, key)))
    # SQLite needs no more: the caller's write transaction began IMMEDIATE, which already queues every writer.
    counted = select(func.count()).where(
        col(AuditEvent.action).in_((SIGN_IN_PENDING, SIGN_IN_FAILED)),
        AuditEvent.object == f"user:{email}",
        col(AuditEvent.at) >= since,
    )
    if session.exec(counted).one() >= limit:
        return None
    event = audit.record(session, actor=email, action=SIGN_IN_PENDING, object=f"user:{email}")
    session.flush()
    assert event.id is not None
    return event.id


def finish_sign_in(session: Session, *, attempt: int, succeeded: bool) -> None:
    """Turn an attempt under way into a sign-in or a failed one; its id then names the session it opened."""
    event = session.get(AuditEvent, attempt)
    if event is not None and event.action == SIGN_IN_PENDING:
        event.action = SIGN_IN if succeeded else SIGN_IN_FAILED
        session.add(event)


def end_session(session: Session, *, attempt: int, email: str) -> None:
    """Sign a session out: its sign-in event notes when it ended (so checking a session stays one primary-key read,
    however long the log grows) and a sign-out event records who did it."""
    opened = session.get(AuditEvent, attempt)
    if opened is not None and opened.action == SIGN_IN and not (opened.after or {}).get(SESSION_ENDED):
        opened.after = {**(opened.after or {}), SESSION_ENDED: utcnow().isoformat()}
        session.add(opened)
    audit.record(session, actor=email, action=SIGN_OUT, object=f"user:{email}", after={"session": attempt})


def session_user(session: Session, *, user_id: int, attempt: int) -> User | None:
    """The active user of a browser session named by the sign-in that opened it, unless it was signed out: one
    primary-key read of each row, in one query, on every request."""
    query = select(User, AuditEvent).join(AuditEvent, col(AuditEvent.id) == attempt).where(User.id == user_id)
    found = session.exec(query).first()
    if found is None:
        return None
    user, opened = found
    live = opened.action == SIGN_IN and opened.object == f"user:{user.email}"
    return user if live and user.active and not (opened.after or {}).get(SESSION_ENDED) else None


def create_token(session: Session, *, email: str, actor: str) -> str:
    """Create a bearer token for a user and return it; it is shown once and only its hash is kept."""
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None or user.id is None:
        raise AccountError(f"no user {email!r}")
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token)))
    audit.record(session, actor=actor, action="token.create", object=f"user:{user.email}")
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """Find the active user behind a live (unrevoked) token."""
    query = (
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)  # type: ignore[arg-type]
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at == None, User.active)  # noqa: E711
    )
    return session.exec(query).first()


def revoke_token(session: Session, *, token: str, actor: str) -> bool:
    """Revoke a token; later requests with it are refused."""
    found = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
    return _revoke(session, found, actor)


def _revoke(session: Session, found: ApiToken | None, actor: str) -> bool:
    """Mark a live token revoked, with an audit event; False when there is none to revoke."""
    if found is None or found.revoked_at is not None:
        return False
    found.revoked_at = utcnow()
    session.add(found)
    audit.record(session, actor=actor, action="token.revoke", object=f"token:{found.id}")
    return True


def list_users(session: Session) -> list[User]:
    """List every user by email, for the admins who manage them."""
    return list(session.exec(select(User).order_by(col(User.email))))


def _find_user(session: Session, email: str) -> User:
    """Find a user by email, or say there is none."""
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        raise AccountError(f"no user {email!r}")
    return user


def change_role(session: Session, *, email: str, role: Role, port: str | None, actor: str) -> User:
    """Change a user's role and port under the rules of add_user; an admin cannot demote themselves and lock out."""
    user = _find_user(session, email)
    _check_role_port(session, role, port)
    if user.email == actor and user.role == Role.admin and role != Role.admin:
        raise AccountError("you cannot take away your own admin role; ask another admin")
    before = {"role": user.role.value, "port": user.port_locode}
    after = {"role": role.value, "port": port}
    if before != after:
        user.role, user.port_locode = role, port
        session.add(user)
        audit.record(session, actor=actor, action="user.role", object=f"user:{user.email}", before=before, after=after)
    return user


def set_active(session: Session, *, email: str, active: bool, actor: str) -> User:
    """Deactivate or reactivate a user; a deactivated user's session and tokens are refused at the next request."""
    user = _find_user(session, email)
    if user.email == actor and not active:
        raise AccountError("you cannot deactivate your own account")
    if user.active != active:
        user.active = active
        session.add(user)
        audit.record(
            session,
            actor=actor,
            action="user.reactivate" if active else "user.deactivate",
            object=f"user:{user.email}",
            before={"active": not active},
            after={"active": active},
        )
    return user


def list_tokens(session: Session) -> list[tuple[ApiToken, User]]:
    """List every API token with its user, newest first; only hashes are stored, so no token can be shown again."""
    query = select(ApiToken, User).join(User, col(User.id) == col(ApiToken.user_id)).order_by(col(ApiToken.id).desc())
    return [(token, user) for token, user in session.exec(query)]


def revoke_token_id(session: Session, *, token_id: int, actor: str) -> bool:
    """Revoke a token by its row, as admins see it listed; the token itself was never kept."""
    return _revoke(session, session.get(ApiToken, token_id), actor)
