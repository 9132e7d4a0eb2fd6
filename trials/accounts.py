"""Users and API tokens: passwords hashed with scrypt, tokens kept only as their sha256."""

from __future__ import annotations

import hashlib
import secrets

from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from trials import audit
from trials.models import ApiToken, Port, Role, User, utcnow

MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """Raised with a message for the person who asked, when an account change cannot be made."""


def hash_token(token: str) -> str:
    """Hash a bearer token; a stolen database then holds no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(session: Session, *, email: str, password: str, role: Role, port: str | None, actor: str) -> User:
    """Create a user; partners must belong to a port, since their scope is their port."""
    email = email.strip().lower()
    if "@" not in email:
        raise AccountError(f"{email!r} is not an email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if role == Role.partner and port is None:
        raise AccountError("a partner must belong to a port: add --port LOCODE")
    if port is not None and session.get(Port, port) is None:
        raise AccountError(f"unknown port {port!r}; run `zetrials init` or use one of the seeded UN/LOCODEs")
    if session.exec(select(User).where(User.email == email)).first() is not None:
        raise AccountError(f"a user {email!r} already exists")
    user = User(email=email, password_hash=generate_password_hash(password), role=role, port_locode=port)
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.add", object=f"user:{email}", after={"role": role, "port": port})
    return user


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """Return the active user with this email and password, or None; the same answer for every failure."""
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        return None
    return user


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
    if found is None or found.revoked_at is not None:
        return False
    found.revoked_at = utcnow()
    session.add(found)
    audit.record(session, actor=actor, action="token.revoke", object=f"token:{found.id}")
    return True
