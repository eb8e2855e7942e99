"""Users, sign-in sessions and personal API tokens.

Session cookies and API tokens are random strings handed to the user once; the database keeps
only their SHA-256 digests. Passwords arrive here already hashed (argon2id, see
:mod:`paperboy.community.passwords`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from paperboy.errors import PaperboyError
from paperboy.storage.papers import utcnow
from paperboy.storage.schema import api_tokens, user_sessions, users
from paperboy.storage.tokens import digest, new_api_token, new_session_token
from paperboy.storage.writes import write
from paperboy.validation import email_key, username_key

SESSION_TTL = timedelta(days=30)
#: last_used_at of an API token is refreshed at most this often (not a write per request)
_TOKEN_TOUCH_EVERY = timedelta(minutes=5)


class AccountExists(PaperboyError):
    """The username or e-mail address is already registered."""

    def __init__(self, field: str):
        self.field = field
        super().__init__(
            "That username is taken." if field == "username"
            else "An account with that e-mail address exists; sign in or reset its password."
        )


@dataclass(frozen=True)
class User:
    id: int
    username: str
    email: str
    is_admin: bool
    disabled: bool
    created_at: datetime
    password_hash: str
    password_changed_at: datetime

    @classmethod
    def from_row(cls, row) -> "User":
        return cls(id=row["id"], username=row["username"], email=row["email"],
                   is_admin=bool(row["is_admin"]), disabled=bool(row["disabled"]),
                   created_at=row["created_at"], password_hash=row["password_hash"],
                   password_changed_at=row["password_changed_at"])


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class AccountRepository:
    def __init__(self, engine):
        self.engine = engine

    # -- users ----------------------------------------------------------------------------

    def create_user(self, username: str, email: str, password_hash: str,
                    is_admin: bool = False) -> User:
        now = utcnow()
        values = {"username": username, "username_key": username_key(username),
                  "email": email.strip(), "email_key": email_key(email),
                  "password_hash": password_hash, "is_admin": is_admin, "disabled": False,
                  "created_at": now, "password_changed_at": now}

        def work(conn):
            taken = conn.execute(
                select(users.c.username_key, users.c.email_key).where(
                    or_(users.c.username_key == values["username_key"],
                        users.c.email_key == values["email_key"]))
            ).first()
            if taken is not None:
                raise AccountExists("username" if taken[0] == values["username_key"] else "email")
            return conn.execute(users.insert().values(values)).inserted_primary_key[0]

        try:
            user_id = write(self.engine, work)
        except IntegrityError:  # lost a race against an identical sign-up
            existing = self.get_by_username(username)
            raise AccountExists("username" if existing else "email") from None
        return self.get(user_id)

    def get(self, user_id: int) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
        return User.from_row(row) if row else None

    def get_by_username(self, username: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(users).where(users.c.username_key == username_key(username))
            ).mappings().first()
        return User.from_row(row) if row else None

    def get_by_login(self, login: str) -> User | None:
        """The user whose username or e-mail address is ``login``."""
        login = login.strip()
        with self.engine.connect() as conn:
            row = conn.execute(
                select(users).where(or_(users.c.username_key == username_key(login)[:40],
                                        users.c.email_key == email_key(login)[:255]))
            ).mappings().first()
        return User.from_row(row) if row else None

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(users)).scalar_one()

    def list_users(self, limit: int = 100) -> list[User]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.id).limit(limit)).mappings().all()
        return [User.from_row(r) for r in rows]

    def set_password(self, user_id: int, password_hash: str, keep_session: str | None = None) -> None:
        """New password; every session but ``keep_session`` (the one changing it) ends."""

        def work(conn):
            conn.execute(update(users).where(users.c.id == user_id).values(
                password_hash=password_hash, password_changed_at=utcnow()))
            self._end_sessions(conn, user_id, keep_session)

        write(self.engine, work)

    def rehash(self, user_id: int, password_hash: str) -> None:
        """Store an upgraded hash of the same password (parameters changed)."""
        write(self.engine, lambda conn: conn.execute(
            update(users).where(users.c.id == user_id).values(password_hash=password_hash)))

    def set_disabled(self, user_id: int, disabled: bool) -> None:
        def work(conn):
            conn.execute(update(users).where(users.c.id == user_id).values(disabled=disabled))
            if disabled:
                self._end_sessions(conn, user_id, None)
                conn.execute(update(api_tokens).where(
                    and_(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
                ).values(revoked_at=utcnow()))

        write(self.engine, work)

    def set_admin(self, user_id: int, is_admin: bool) -> None:
        write(self.engine, lambda conn: conn.execute(
            update(users).where(users.c.id == user_id).values(is_admin=is_admin)))

    # -- sessions -------------------------------------------------------------------------

    def create_session(self, user_id: int, replace: str | None = None,
                       ttl: timedelta = SESSION_TTL) -> str:
        """A new session token for ``user_id``; ``replace`` (the pre-login token) ends."""
        token = new_session_token()
        now = utcnow()

        def work(conn):
            if replace:
                conn.execute(delete(user_sessions).where(user_sessions.c.id == digest(replace)))
            conn.execute(user_sessions.insert().values(
                id=digest(token), user_id=user_id, created_at=now, expires_at=now + ttl))
            # Housekeeping, bounded by the index: expired sessions of everyone go.
            conn.execute(delete(user_sessions).where(user_sessions.c.expires_at < now))

        write(self.engine, work)
        return token

    def user_for_session(self, token: str) -> User | None:
        if not token or len(token) > 200:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(
                select(users).join(user_sessions, user_sessions.c.user_id == users.c.id).where(
                    user_sessions.c.id == digest(token), user_sessions.c.expires_at > utcnow())
            ).mappings().first()
        if row is None or row["disabled"]:
            return None
        return User.from_row(row)

    def end_session(self, token: str) -> None:
        write(self.engine, lambda conn: conn.execute(
            delete(user_sessions).where(user_sessions.c.id == digest(token))))

    @staticmethod
    def _end_sessions(conn, user_id: int, keep: str | None) -> None:
        stmt = delete(user_sessions).where(user_sessions.c.user_id == user_id)
        if keep:
            stmt = stmt.where(user_sessions.c.id != digest(keep))
        conn.execute(stmt)

    # -- API tokens -----------------------------------------------------------------------

    def create_api_token(self, user_id: int, name: str) -> tuple[str, ApiToken]:
        """A new token: the plain value is returned once and never stored."""
        token = new_api_token()
        now = utcnow()
        name = " ".join(name.split())[:100] or "token"

        def work(conn):
            return conn.execute(api_tokens.insert().values(
                user_id=user_id, name=name, token_hash=digest(token), prefix=token[:12],
                created_at=now)).inserted_primary_key[0]

        token_id = write(self.engine, work)
        return token, ApiToken(token_id, name, token[:12], now, None, None)

    def list_api_tokens(self, user_id: int) -> list[ApiToken]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_tokens).where(api_tokens.c.user_id == user_id)
                                .order_by(api_tokens.c.id.desc())).mappings().all()
        return [ApiToken(r["id"], r["name"], r["prefix"], r["created_at"], r["last_used_at"],
                         r["revoked_at"]) for r in rows]

    def revoke_api_token(self, user_id: int, token_id: int) -> bool:
        """Revoke one of the user's own tokens; False when it is not theirs or already revoked."""
        def work(conn):
            return conn.execute(update(api_tokens).where(
                api_tokens.c.id == token_id, api_tokens.c.user_id == user_id,
                api_tokens.c.revoked_at.is_(None)).values(revoked_at=utcnow())).rowcount

        return write(self.engine, work) == 1

    def user_for_api_token(self, token: str) -> User | None:
        if not token or len(token) > 200:
            return None
        now = utcnow()
        with self.engine.connect() as conn:
            row = conn.execute(
                select(users, api_tokens.c.id.label("token_id"),
                       api_tokens.c.last_used_at.label("token_used"))
                .join(api_tokens, api_tokens.c.user_id == users.c.id)
                .where(api_tokens.c.token_hash == digest(token), api_tokens.c.revoked_at.is_(None))
            ).mappings().first()
        if row is None or row["disabled"]:
            return None
        if row["token_used"] is None or now - row["token_used"] > _TOKEN_TOUCH_EVERY:
            write(self.engine, lambda conn: conn.execute(
                update(api_tokens).where(api_tokens.c.id == row["token_id"]).values(last_used_at=now)))
        return User.from_row(row)
