"""The api_credentials repository: tokens in, tokens out, never in the clear at rest."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.crypto import CredentialKeyError, TokenCipher
from db.models import ApiCredential


@dataclass(frozen=True)
class Tokens:
    """Decrypted DocuSign tokens for one user and account. Lives in memory only."""

    user_id: uuid.UUID
    account_id: str
    docusign_user_id: str
    base_uri: str
    grant_type: str
    access_token: str
    refresh_token: str | None
    expires_at: dt.datetime
    scopes: tuple[str, ...]
    status: str

    def __repr__(self) -> str:  # tokens must never reach a log through a repr
        return f"Tokens(user_id={self.user_id}, account_id={self.account_id}, expires_at={self.expires_at})"


def _aad(user_id: uuid.UUID, account_id: str) -> bytes:
    """Binds a ciphertext to its row: a token copied into another user's row will not decrypt."""
    return f"{user_id}:{account_id}".encode()


async def save(session: AsyncSession, cipher: TokenCipher, tokens: Tokens) -> None:
    aad = _aad(tokens.user_id, tokens.account_id)
    values = {
        "user_id": tokens.user_id,
        "account_id": tokens.account_id,
        "docusign_user_id": tokens.docusign_user_id,
        "base_uri": tokens.base_uri,
        "grant_type": tokens.grant_type,
        "access_token": cipher.encrypt(tokens.access_token, aad=aad),
        "refresh_token": cipher.encrypt(tokens.refresh_token, aad=aad) if tokens.refresh_token else None,
        "key_id": cipher.current_key_id,
        "expires_at": tokens.expires_at,
        "scopes": list(tokens.scopes),
        "status": tokens.status,
        "refreshed_at": dt.datetime.now(dt.UTC),
    }
    stmt = insert(ApiCredential).values(**values)
    update = {k: stmt.excluded[k] for k in values if k not in ("user_id", "account_id")}
    update["updated_at"] = dt.datetime.now(dt.UTC)
    await session.execute(stmt.on_conflict_do_update(index_elements=["user_id", "account_id"], set_=update))


def _decrypt(cipher: TokenCipher, row: ApiCredential) -> Tokens:
    aad = _aad(row.user_id, row.account_id)
    return Tokens(
        user_id=row.user_id,
        account_id=row.account_id,
        docusign_user_id=row.docusign_user_id,
        base_uri=row.base_uri,
        grant_type=row.grant_type,
        access_token=cipher.decrypt(row.access_token, row.key_id, aad=aad),
        refresh_token=cipher.decrypt(row.refresh_token, row.key_id, aad=aad) if row.refresh_token else None,
        expires_at=row.expires_at,
        scopes=tuple(row.scopes),
        status=row.status,
    )


async def load(
    session: AsyncSession, cipher: TokenCipher, user_id: uuid.UUID, account_id: str | None = None, *, for_update: bool = False
) -> Tokens | None:
    stmt = select(ApiCredential).where(ApiCredential.user_id == user_id)
    if account_id is not None:
        stmt = stmt.where(ApiCredential.account_id == account_id)
    stmt = stmt.order_by(ApiCredential.updated_at.desc()).limit(1)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    return None if row is None else _decrypt(cipher, row)


async def mark_reconnect_required(session: AsyncSession, user_id: uuid.UUID, account_id: str) -> None:
    row = (
        await session.execute(
            select(ApiCredential).where(ApiCredential.user_id == user_id, ApiCredential.account_id == account_id)
        )
    ).scalar_one_or_none()
    if row is not None:
        row.status = "reconnect_required"


async def reencrypt_all(session: AsyncSession, cipher: TokenCipher) -> int:
    """Rewrite every row readable by this session with the newest key. Fails, changing nothing, on an unknown key."""
    rows = (await session.execute(select(ApiCredential))).scalars().all()
    decrypted = [_decrypt(cipher, row) for row in rows]  # all or nothing: raise before the first write
    for tokens in decrypted:
        await save(session, cipher, tokens)
    return len(decrypted)


__all__ = ["CredentialKeyError", "Tokens", "load", "mark_reconnect_required", "reencrypt_all", "save"]
