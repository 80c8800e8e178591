"""The API's settings, beside the core ones: ``LEDGERLENS_AUTH__*`` and ``LEDGERLENS_API__*``.

Kept in ``serve`` because only the server reads them; the same env prefix and nesting as
``config.Settings`` so one environment configures both. Unsafe values are refused in
production: the well-known development signing secret, or a short one.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledgerlens.serve.security import DEV_SECRET, AuthSettings

__all__ = ["ApiSettings", "ServeSettings"]


class ApiSettings(BaseModel):
    """Limits of the HTTP surface."""

    rate_limit_per_s: float = Field(
        default=50.0, gt=0, description="sustained requests/s per token"
    )
    rate_limit_burst: int = Field(default=200, ge=1, description="requests a token may burst")
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, description="JSON bodies")
    idempotency_wait_s: float = Field(
        default=10.0, ge=0, description="how long a duplicate waits for the first request"
    )
    idempotency_lease_s: float = Field(
        default=300.0, gt=0, description="after this an unfinished reservation may be taken over"
    )
    refresh_delay_s: float = Field(
        default=2.0,
        ge=0,
        le=3600,
        description="forecast and insights refresh this long after ingestion (writes coalesce)",
    )
    refresh_process: bool = Field(
        default=True,
        description="compute background refreshes in a worker process (never in-memory SQLite)",
    )
    scoring_context_rebuild_s: float = Field(
        default=30.0,
        ge=0,
        le=86_400,
        description="a business's scoring context is rebuilt from storage at most this often",
    )
    scoring_contexts: int = Field(
        64,
        ge=1,
        le=10_000,
        description="businesses whose fitted anomaly scoring context this process keeps (LRU)",
    )
    business_facts_ttl_s: float = Field(
        default=5.0,
        ge=0,
        le=3_600,
        description=(
            "real-time ingestion re-reads a business's accounts, corrections and profile at "
            "least this often (writes by other processes show within it)"
        ),
    )


class ServeSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LEDGERLENS_", env_nested_delimiter="__", extra="ignore"
    )

    environment: Literal["development", "test", "production"] = "development"
    auth: AuthSettings = AuthSettings()
    api: ApiSettings = ApiSettings()

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> ServeSettings:
        if self.environment != "production":
            return self
        if self.auth.uses_jwks:
            if not self.auth.jwks_url:
                raise ValueError(
                    f"production {self.auth.algorithm} needs LEDGERLENS_AUTH__JWKS_URL"
                )
            return self
        secret = self.auth.secret.get_secret_value()
        if secret == DEV_SECRET or len(secret) < 32:
            raise ValueError(
                "production refuses the development signing secret: set LEDGERLENS_AUTH__SECRET "
                "(32+ characters) or an identity provider's algorithm (RS256, PS256, ES256, ES384) "
                "with LEDGERLENS_AUTH__JWKS_URL"
            )
        return self
