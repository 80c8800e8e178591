"""``ledgerlens serve`` (the API under uvicorn) and ``ledgerlens token`` (development tokens).

``serve`` runs one uvicorn worker with uvicorn's access log off: requests are counted in
Prometheus metrics and errors logged through structlog, so no URL (which may carry ids) and no
header reaches a log line. ``token`` signs an HS256 token with the configured development
secret; production tokens come from the identity provider.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ledgerlens.core.ledger import Role

__all__ = ["register"]


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Serve the API (one uvicorn worker; migrates the database at start-up)."""
    import uvicorn

    from ledgerlens.bootstrap import configure_logging
    from ledgerlens.config import get_settings
    from ledgerlens.serve.app import create_app

    configure_logging(get_settings().log_json)
    uvicorn.run(
        create_app(),
        host=host,
        port=port,
        workers=1,
        access_log=False,
        log_level="warning",
        lifespan="on",
    )


def token(
    business: Annotated[
        str | None, typer.Option("--business", help="Business id the token grants.")
    ] = None,
    role: Annotated[Role | None, typer.Option("--role", help="Role on that business.")] = None,
    subject: Annotated[str, typer.Option(help="Token subject (user or client id).")] = "",
    ttl_hours: Annotated[float, typer.Option(help="Hours until it expires.")] = 12.0,
    pii: Annotated[bool, typer.Option(help="Bank staff: may see unmasked PII.")] = False,
    onboard: Annotated[
        bool,
        typer.Option(
            "--onboard",
            help="The ledgerlens:onboard scope: create businesses and accounts, list them all.",
        ),
    ] = False,
) -> None:
    """Print a development bearer token (HS256, signed with LEDGERLENS_AUTH__SECRET).

    ``--business`` with ``--role`` grants a role; ``--onboard`` alone issues a token for the
    bank's onboarding backend (no role on any business)."""
    from ledgerlens.serve.security import issue_dev_token
    from ledgerlens.serve.settings import ServeSettings

    if (business is None) != (role is None):
        raise typer.BadParameter("--business and --role go together")
    if business is None and not onboard:
        raise typer.BadParameter("give --business and --role, or --onboard")
    settings = ServeSettings()
    if settings.environment == "production":
        raise typer.BadParameter("development tokens are not issued in production")
    grants = {business: role} if business is not None and role is not None else {}
    default_subject = f"dev-{role.value}" if role is not None else "dev-onboarding"
    typer.echo(
        issue_dev_token(
            settings.auth,
            subject or default_subject,
            grants,
            ttl_hours,
            pii=pii,
            onboard=onboard,
        )
    )


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``token`` to the ``ledgerlens`` command line."""
    app.command("serve")(serve)
    app.command("token")(token)
