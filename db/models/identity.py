"""Who a user is: profile, DocuSign credentials, API keys, preferences."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at, one_of, updated_at, uuid_pk


class Profile(Base):
    """One per person. `id` is the auth subject (a Supabase `auth.users` id works as is)."""

    __tablename__ = "profiles"
    __table_args__ = (
        Index("ix_profiles_docusign_user_id", "docusign_user_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(String(320), nullable=False, unique=True)  # stored lower-cased
    display_name: Mapped[str | None] = mapped_column(String(200))
    docusign_user_id: Mapped[str | None] = mapped_column(String(64))
    docusign_account_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()


class ApiCredential(Base):
    """DocuSign OAuth tokens. Token values are AES-GCM ciphertext; `key_id` names the key for rotation."""

    __tablename__ = "api_credentials"
    __table_args__ = (
        UniqueConstraint("user_id", "account_id"),
        one_of("grant_type", ("jwt", "authorization_code")),
        one_of("status", ("active", "reconnect_required")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
    )
    account_id: Mapped[str] = mapped_column(String(64), nullable=False)
    docusign_user_id: Mapped[str] = mapped_column(String(64), nullable=False)
    base_uri: Mapped[str] = mapped_column(Text, nullable=False)
    grant_type: Mapped[str] = mapped_column(String(32), nullable=False)
    access_token: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    refresh_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(32), nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    status: Mapped[str] = mapped_column(String(32), nullable=False, server_default="active")
    refreshed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()


class ApiKey(Base):
    """Keys for programs. Only a SHA-256 of the key is kept; `prefix` lets a person tell keys apart."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_user_id", "user_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[dt.datetime] = created_at()
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class UserPreferences(Base):
    __tablename__ = "user_preferences"
    __table_args__ = (
        one_of("theme", ("system", "light", "dark")),
        one_of("tone", ("concise", "friendly", "formal")),
        one_of("verbosity", ("brief", "normal", "detailed")),
        one_of("default_signing_order", ("parallel", "sequential")),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
    theme: Mapped[str] = mapped_column(String(16), nullable=False, server_default="system")
    notify_in_app: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    notify_email_on_completed: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    notify_email_on_declined: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    tone: Mapped[str] = mapped_column(String(16), nullable=False, server_default="friendly")
    verbosity: Mapped[str] = mapped_column(String(16), nullable=False, server_default="normal")
    confirm_reminders: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    default_signing_order: Mapped[str] = mapped_column(String(16), nullable=False, server_default="parallel")
    reminder_days: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = updated_at()
