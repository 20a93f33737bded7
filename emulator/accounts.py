"""Users, their accounts, and the bearer-token check every REST route goes through."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import Request

from emulator.errors import DocuSignError
from emulator.runtime import Emulator, emulator_of
from emulator.seed import seed_templates
from emulator.state import Account, EmulatorState, User, new_id


def create_or_get_user(state: EmulatorState, email: str, name: str | None = None) -> tuple[User, bool]:
    """One user with one account holding the seeded templates; the same email always gets the same user."""
    existing = state.user_by_email(email)
    if existing is not None:
        return existing, False
    display = (name or email.split("@")[0]).strip() or email
    user = User(user_id=new_id(), email=email.strip(), name=display)
    account = Account(account_id=new_id(), name=f"{display}'s Account", owner_user_id=user.user_id)
    user.account_ids.append(account.account_id)
    state.users[user.user_id] = user
    state.accounts[account.account_id] = account
    seed_templates(state, account.account_id, user.user_id)
    return user, True


@dataclass
class Caller:
    user: User
    account: Account
    emulator: Emulator


def _unauthorized(code: str, message: str) -> DocuSignError:
    return DocuSignError(code, message, 401)


def authenticate(request: Request) -> tuple[Emulator, User]:
    emu = emulator_of(request)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized(
            "USER_AUTHENTICATION_FAILED",
            "One or both of Username and Password are invalid. Invalid access token",
        )
    grant = emu.state.access_tokens.get(token.strip())
    if grant is None or grant.expires_at <= time.time():
        raise _unauthorized(
            "AUTHORIZATION_INVALID_TOKEN", "The access token provided is expired, revoked or malformed."
        )
    user = emu.state.users.get(grant.user_id)
    if user is None:
        raise _unauthorized(
            "AUTHORIZATION_INVALID_TOKEN", "The access token provided is expired, revoked or malformed."
        )
    return emu, user


def require_account(request: Request, account_id: str) -> Caller:
    """Resolve the caller and check the account is theirs; someone else's account looks unknown."""
    emu, user = authenticate(request)
    account = emu.state.accounts.get(account_id)
    if account is None or account_id not in user.account_ids:
        raise DocuSignError(
            "USER_DOES_NOT_BELONG_TO_SPECIFIED_ACCOUNT",
            "The specified User is not a member of the specified Account.",
        )
    return Caller(user=user, account=account, emulator=emu)
