"""Demo accounts: one per way of seeing the data, for development only, known by their reserved email domain.

They are ordinary users (scrypt hashes, audit events): an admin, an editor and a partner at the port with the most
private trials, an executive without a port, and a partner at a second port. The ports come from the data at hand,
so each partner has private trials of the other's port hidden from it whenever the data hold any. No column marks
them: the domain `demo.zetrials.invalid` does (`.invalid` is reserved and can never be a real address).
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass

from sqlmodel import Session, col, select
from werkzeug.security import generate_password_hash

from trials import audit
from trials.accounts import AccountError, add_user, set_active
from trials.models import Port, Role, Trial, User, Visibility

DEMO_DOMAIN = "demo.zetrials.invalid"
#: Random bytes per password: token_urlsafe gives 16 characters, above the 10 every password needs.
PASSWORD_BYTES = 12
#: The order accounts are listed in, as the roles go from most to least they may do.
ROLE_ORDER = (Role.admin, Role.editor, Role.executive, Role.partner)


@dataclass(frozen=True)
class DemoAccount:
    """A demo account with its password, as it is printed the one time it is known."""

    email: str
    role: Role
    port: str | None
    password: str


def is_demo_email(email: str) -> bool:
    """Tell whether an email is a demo account's (the reserved domain)."""
    return email.strip().lower().endswith("@" + DEMO_DOMAIN)


def demo_users(session: Session, *, active_only: bool = False) -> list[User]:
    """List the demo accounts, admin first, then editor, executive and partners by email."""
    query = select(User).where(col(User.email).endswith("@" + DEMO_DOMAIN))
    if active_only:
        query = query.where(col(User.active))
    return sorted(session.exec(query), key=lambda user: (ROLE_ORDER.index(user.role), user.email))


def demo_ports(session: Session) -> tuple[str, str]:
    """Choose the two ports of the demo accounts from the data: the ones with the most private trials (then the
    most trials, then by UN/LOCODE), so each partner has the other's private trials hidden from it."""
    trials = session.exec(select(Trial.port_locode, Trial.visibility)).all()
    private = Counter(port for port, visibility in trials if visibility == Visibility.private)
    every = Counter(port for port, _ in trials)
    ports = sorted(session.exec(select(Port.locode)), key=lambda port: (-private[port], -every[port], port))
    if len(ports) < 2:
        raise AccountError("demo accounts need two ports: run `zetrials init` first")
    return ports[0], ports[1]


def planned_accounts(session: Session) -> list[tuple[str, Role, str | None]]:
    """Give the email, role and port of every demo account: one for each way of seeing the data."""
    first, second = demo_ports(session)
    return [
        (f"admin@{DEMO_DOMAIN}", Role.admin, None),
        (f"editor.{first.lower()}@{DEMO_DOMAIN}", Role.editor, first),
        (f"executive@{DEMO_DOMAIN}", Role.executive, None),
        (f"partner.{first.lower()}@{DEMO_DOMAIN}", Role.partner, first),
        (f"partner.{second.lower()}@{DEMO_DOMAIN}", Role.partner, second),
    ]


def new_password() -> str:
    """A random password for one demo account."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def create_demo_accounts(session: Session, *, actor: str) -> list[DemoAccount]:
    """Create the demo accounts with random passwords, returned this once; none if any demo account exists."""
    if demo_users(session):
        return []
    made = []
    for email, role, port in planned_accounts(session):
        password = new_password()
        add_user(session, email=email, password=password, role=role, port=port, actor=actor)
        made.append(DemoAccount(email, role, port, password))
    return made


def reset_demo_accounts(session: Session, *, actor: str) -> list[DemoAccount]:
    """Give every demo account a new random password and make it active again; create them if there are none."""
    users = demo_users(session)
    if not users:
        return create_demo_accounts(session, actor=actor)
    reset = []
    for user in users:
        password = new_password()
        user.password_hash = generate_password_hash(password)
        session.add(user)
        audit.record(session, actor=actor, action="user.password", object=f"user:{user.email}")
        set_active(session, email=user.email, active=True, actor=actor)
        reset.append(DemoAccount(user.email, user.role, user.port_locode, password))
    return reset


def deactivate_demo_accounts(session: Session, *, actor: str) -> list[User]:
    """Deactivate every active demo account: it can no longer sign in, and its API tokens stop working. The rows
    stay, so the audit log and the import history keep naming them. Returns the accounts deactivated."""
    users = demo_users(session, active_only=True)
    for user in users:
        set_active(session, email=user.email, active=False, actor=actor)
    return users
