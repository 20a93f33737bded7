"""All configuration in one place.

Every knob the product has is a field here, read from the environment (or `.env`). Modules never read
`os.environ` themselves, so a bad value is caught once, at start-up, with a one-line message
(see `load_settings`).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

OFFLINE_MODEL = "offline-planner"


DOCUSIGN_POLL_SECONDS = 900  # DocuSign: status changes may be polled at most once every 15 minutes


class SettingsError(Exception):
    """A configuration problem, phrased for a person in one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # --- storage -------------------------------------------------------------------------------------
    database_url: str | None = Field(
        default=None,
        description="Owner connection (migrations). Unset: embedded Postgres under DATA_DIR.",
    )
    app_database_url: str | None = Field(
        default=None,
        description="Connection for the RLS-bound app role. Unset: DATABASE_URL with user dsa_app.",
    )
    webhook_database_url: str | None = Field(
        default=None,
        description="Connection for the webhook worker role. Unset: DATABASE_URL with user dsa_webhook.",
    )
    runs_database_url: str | None = Field(
        default=None,
        description="Connection for the run worker role (claims and sweeps runs). Unset: DATABASE_URL with user "
                    "dsa_runs.",
    )
    db_role_password: str | None = Field(
        default=None,
        description="Password given to the dsa_app, dsa_webhook and dsa_runs roles (password auth servers).",
    )
    db_pool_size: int = Field(default=10, ge=1, le=200, description="Sizes every connection pool of a server "
                              "process: about 5 * DB_POOL_SIZE + 5 connections per process at peak (README).")
    redis_url: str | None = Field(default=None, description="Unset: the run-event bus and the envelope read cache "
                                                           "stay in process (one server process only).")
    data_dir: Path = Field(default=Path("./.data"))

    # --- HTTP ------------------------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(default=8123, ge=1, le=65535)
    public_url: AnyHttpUrl | None = Field(default=None, description="How DocuSign and browsers reach us.")
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    max_upload_bytes: int = Field(default=25_000_000, ge=1024)
    header_read_timeout_seconds: float = Field(default=10.0, gt=0, description="From a connection's start (or its "
                                               "last response) to a request's complete headers; else 408, closed.")
    body_read_timeout_seconds: float = Field(default=30.0, gt=0, description="The longest a request body may "
                                             "pause before 408 (idle time between bytes, not the whole upload).")
    max_connections_per_client: int = Field(default=256, ge=0, description="Open connections per client address "
                                            "(429 beyond); 0: no limit. Behind a proxy every client is the proxy.")
    gc_freeze_after_startup: bool = Field(default=True, description="Once a server process has started, move "
                                          "what it holds to the collector's permanent generation (gc.freeze).")
    gc_gen0_threshold: int = Field(default=20_000, ge=0, description="Allocations between young-generation "
                                   "collections in a server process (Python's default: 700); 0 keeps Python's.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    langgraph_config: Path | None = Field(
        default=None,
        description="langgraph.json naming the graphs to serve. Unset: ./langgraph.json if present, else `agent`.",
    )

    # --- auth ------------------------------------------------------------------------------------------
    auth_jwt_secret: str | None = Field(default=None, description="HS256 secret. Unset: kept in DATA_DIR.")
    auth_jwt_issuer: str | None = None
    auth_jwt_audience: str | None = None
    auth_jwks_url: AnyHttpUrl | None = None
    auth_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=60)
    local_sign_in: bool = Field(
        default=True,
        description="The chat page signs in as the local user without a password. Only ever in effect while the "
        "server listens on loopback only (HOST 127.0.0.1/::1/localhost and no PUBLIC_URL elsewhere).",
    )

    # --- model -----------------------------------------------------------------------------------------
    openai_api_key: str | None = None
    openai_base_url: str | None = Field(default=None, description="Unset with no key: the offline model.")
    model: str | None = None
    model_temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    embeddings_model: str | None = Field(default=None, description="e.g. text-embedding-3-small, served where the "
                                         "chat model is. Unset: store search matches words, not meaning.")
    embeddings_dims: int = Field(default=1536, ge=1, le=8192)

    # --- DocuSign --------------------------------------------------------------------------------------
    docusign_integration_key: str | None = None
    docusign_secret_key: str | None = None
    docusign_user_id: str | None = Field(default=None, description="Impersonated user for the JWT grant.")
    docusign_private_key_path: Path | None = None
    docusign_oauth_base_url: str | None = Field(default=None, description="e.g. https://account-d.docusign.com")
    docusign_redirect_uri: str | None = None
    docusign_scopes: str = "signature impersonation"
    docusign_connect_hmac_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    docusign_cache_ttl_seconds: float = Field(default=15.0, ge=0)
    docusign_max_retries: int = Field(default=4, ge=0, le=10)
    docusign_timeout_seconds: float = Field(default=30.0, gt=0)

    # --- secrets at rest -------------------------------------------------------------------------------
    credentials_encryption_key: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated urlsafe-base64 32-byte AES keys, newest first. Unset: kept in DATA_DIR.",
    )

    # --- webhooks --------------------------------------------------------------------------------------
    webhook_max_attempts: int = Field(default=5, ge=1)
    webhook_max_body_bytes: int = Field(default=5_000_000, ge=1024)
    mirror_sync_seconds: int = Field(
        default=1080, ge=0,
        description="How often the mirror asks DocuSign for status changes since its last sync, so that a lost "
        "Connect delivery heals (0: only `docusign-agent mirror sync`). DocuSign allows one poll per 15 minutes "
        "and suggests 17-20: against real DocuSign a smaller value is raised to 900.",
    )

    # --- emulator --------------------------------------------------------------------------------------
    emulator_snapshot_path: Path | None = None
    docusign_emulator_url: str | None = Field(
        default=None,
        description="An emulator served elsewhere (`docusign-agent emulator`), e.g. http://127.0.0.1:8400/_emulator. "
        "Unset: the emulator is mounted under /_emulator of this server.",
    )

    @field_validator("cors_origins", "docusign_connect_hmac_keys", "credentials_encryption_key", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("database_url", "app_database_url", "webhook_database_url", "runs_database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if urlsplit(value).scheme not in {"postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg"}:
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("must be a redis:// URL")
        return value

    @field_validator("embeddings_model")
    @classmethod
    def _embeddings_served(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value and not info.data.get("openai_api_key") and not info.data.get("openai_base_url"):
            raise ValueError("needs OPENAI_BASE_URL or OPENAI_API_KEY: the offline model serves no embeddings")
        return value

    @field_validator("credentials_encryption_key")
    @classmethod
    def _aes_keys(cls, keys: list[str]) -> list[str]:
        for key in keys:
            try:
                raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
            except ValueError as exc:
                raise ValueError("each key must be urlsafe base64") from exc
            if len(raw) != 32:
                raise ValueError("each key must decode to 32 bytes (AES-256)")
        return keys

    # --- derived ---------------------------------------------------------------------------------------
    @property
    def docusign_is_real(self) -> bool:
        """Real DocuSign is configured; the emulator must then never be mounted."""
        return bool(self.docusign_integration_key and self.docusign_oauth_base_url)

    @property
    def mirror_sync_gap_seconds(self) -> int:
        """The least time between two polls of one DocuSign user's status changes (DocuSign's limit is 15
        minutes; the emulator has none, so tests may poll at once)."""
        if self.docusign_is_real:
            return max(self.mirror_sync_seconds, DOCUSIGN_POLL_SECONDS)
        return self.mirror_sync_seconds

    @property
    def model_is_offline(self) -> bool:
        return not self.openai_api_key and not self.openai_base_url

    @property
    def model_name(self) -> str:
        if self.model:
            return self.model
        return OFFLINE_MODEL if self.model_is_offline else "gpt-4o-mini"

    @property
    def base_url(self) -> str:
        if self.public_url:
            return str(self.public_url).rstrip("/")
        return f"http://{self.host}:{self.port}"


def load_settings(**overrides: object) -> Settings:
    """Build settings or raise SettingsError with one line naming the variable and the problem."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "settings"
        raise SettingsError(f"invalid setting {field.upper()}: {first['msg']}") from None
