"""Typed settings (env prefix ``LEDGERLENS_``, nested with ``__``), read by the composition root.

``LEDGERLENS_DB__URL=postgresql+psycopg://…`` switches storage; the default is one SQLite file
under ``./var`` so a laptop needs no server. Unsafe values are refused outside development.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEV_IBAN_SECRET", "DbSettings", "EnrichSettings", "Settings", "get_settings"]

DEV_IBAN_SECRET = "ledgerlens-development-iban-secret"


class DbSettings(BaseModel):
    url: str = Field(
        default=f"sqlite:///{Path('var/ledgerlens.db')}",
        description="SQLAlchemy URL; sqlite:///path (WAL) or postgresql+psycopg://…",
    )
    echo: bool = False


class EnrichSettings(BaseModel):
    """The categorizer to serve and the key that tokenizes counterparty IBANs for grouping.

    The IBAN secret must stay the same for a deployment's lifetime: stored corrections are keyed
    by the tokens it makes.
    """

    iban_secret: SecretStr = SecretStr(DEV_IBAN_SECRET)
    categorizer_version: str | None = Field(
        default=None, description="pinned categorizer version; None = the newest in the store"
    )
    model_root: Path | None = Field(
        default=None, description="model store folder; None = the models shipped in the package"
    )


class NotifySettings(BaseModel):
    """Where notifications go; a channel without settings is simply not delivered."""

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_sender: str = "LedgerLens <no-reply@localhost>"
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    webhook_url: str = ""
    webhook_secret: SecretStr = SecretStr("")


class RedisSettings(BaseModel):
    url: str | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LEDGERLENS_", env_nested_delimiter="__", extra="ignore"
    )

    environment: Literal["development", "test", "production"] = "development"
    db: DbSettings = DbSettings()
    redis: RedisSettings = RedisSettings()
    enrich: EnrichSettings = EnrichSettings()
    notify: NotifySettings = NotifySettings()
    import_batch_size: int = Field(default=5000, ge=100, le=100_000)
    log_json: bool = False

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        if self.environment == "production" and self.db.url.startswith("sqlite"):
            raise ValueError("production needs a server database (LEDGERLENS_DB__URL)")
        if self.environment == "production" and (
            self.enrich.iban_secret.get_secret_value() == DEV_IBAN_SECRET
        ):
            raise ValueError("production needs its own LEDGERLENS_ENRICH__IBAN_SECRET")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, built on first use (never at import time)."""
    return Settings()
