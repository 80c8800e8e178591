"""Typed settings (env prefix ``LEDGERLENS_``, nested with ``__``), read by the composition root.

``LEDGERLENS_DB__URL=postgresql+psycopg://…`` switches storage; the default is one SQLite file
under ``./var`` so a laptop needs no server. Unsafe values are refused outside development.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DbSettings", "Settings", "get_settings"]


class DbSettings(BaseModel):
    url: str = Field(
        default=f"sqlite:///{Path('var/ledgerlens.db')}",
        description="SQLAlchemy URL; sqlite:///path (WAL) or postgresql+psycopg://…",
    )
    echo: bool = False


class RedisSettings(BaseModel):
    url: str | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LEDGERLENS_", env_nested_delimiter="__", extra="ignore"
    )

    environment: Literal["development", "test", "production"] = "development"
    db: DbSettings = DbSettings()
    redis: RedisSettings = RedisSettings()
    import_batch_size: int = Field(default=5000, ge=100, le=100_000)
    log_json: bool = False

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        if self.environment == "production" and self.db.url.startswith("sqlite"):
            raise ValueError("production needs a server database (LEDGERLENS_DB__URL)")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, built on first use (never at import time)."""
    return Settings()
