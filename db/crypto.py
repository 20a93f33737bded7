"""AES-256-GCM for OAuth tokens at rest.

Ciphertext layout: 12-byte nonce + GCM output. The row keeps the key id beside it, so after a rotation
(new key first in CREDENTIALS_ENCRYPTION_KEY, old ones after) old rows stay readable and are re-encrypted with
the newest key the next time they are written.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class CredentialKeyError(Exception):
    """Stored credentials cannot be decrypted with the configured keys."""


def key_id(key: str) -> str:
    """A short, stable, non-secret name for an encryption key, stored beside what it encrypted."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def _decode(key: str) -> bytes:
    return base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))


class TokenCipher:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise CredentialKeyError("no credentials encryption key configured (CREDENTIALS_ENCRYPTION_KEY)")
        self._keys = {key_id(k): AESGCM(_decode(k)) for k in keys}
        self.current_key_id = key_id(keys[0])

    def encrypt(self, plaintext: str, *, aad: bytes = b"") -> bytes:
        nonce = os.urandom(12)
        return nonce + self._keys[self.current_key_id].encrypt(nonce, plaintext.encode(), aad)

    def decrypt(self, blob: bytes, kid: str, *, aad: bytes = b"") -> str:
        aes = self._keys.get(kid)
        if aes is None:
            raise CredentialKeyError(
                f"stored DocuSign credentials were encrypted with key {kid}, which is not in "
                "CREDENTIALS_ENCRYPTION_KEY; add that key back (after the new one) or reconnect DocuSign"
            )
        try:
            return aes.decrypt(blob[:12], blob[12:], aad).decode()
        except InvalidTag:
            raise CredentialKeyError(f"stored DocuSign credentials do not decrypt with key {kid}") from None
