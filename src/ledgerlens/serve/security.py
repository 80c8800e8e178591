"""Bearer tokens with business-scoped roles, and what each role may do.

A token (JWT) names its holder (``sub``), expires (``exp``) and grants roles per business,
either as a ``biz`` claim ``{"<business_id>": "<role>"}`` or as scopes
``"business:<business_id>:<role>"`` (``scope`` string or ``scopes`` list). The scope
``pii:read`` lets bank staff see unmasked names and IBANs.  The scope ``ledgerlens:onboard`` is
for the bank's onboarding backend: it may register businesses (``POST /v1/businesses``), add
accounts to any business and list every business; it grants no role on any business (reading
the ledger still needs one). Without it no role, the owner's included, creates businesses or
accounts.  An employee's own cards come as a
``cards`` claim ``{"<business_id>": ["<card_id>", …]}``: the card routes show and authorize
only those.

Development signs tokens with HS256 and a shared secret (``ledgerlens token`` issues them);
production validates tokens signed by an identity provider against its JWKS
(``LEDGERLENS_AUTH__JWKS_URL``, fetched by ``jwt.PyJWKClient`` and cached), with the one
asymmetric algorithm the provider signs with (``LEDGERLENS_AUTH__ALGORITHM``: RS256, the
common default, or PS256, ES256, ES384). One algorithm is pinned, never a list that mixes
families: a token whose header names another (HS256 with the public key as the secret, the
classic confusion attack) is refused.

Tenant isolation: a business the token grants nothing on answers 404, exactly like one that does
not exist, so ids of other tenants cannot be probed; a granted business whose role lacks the
permission answers 403.
"""

from __future__ import annotations

import enum
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt
from pydantic import BaseModel, Field, SecretStr

from ledgerlens.core.errors import NotFound
from ledgerlens.core.ledger import Role

__all__ = [
    "DEV_SECRET",
    "ONBOARD_SCOPE",
    "PII_SCOPE",
    "AuthError",
    "AuthSettings",
    "Forbidden",
    "Permission",
    "Principal",
    "TokenVerifier",
    "authorize",
    "authorize_onboarding",
    "issue_dev_token",
]

DEV_SECRET = "ledgerlens-development-secret-do-not-use-in-production"
PII_SCOPE = "pii:read"
#: asymmetric algorithms validated against the identity provider's JWKS
JWKS_ALGORITHMS = ("RS256", "PS256", "ES256", "ES384")
ONBOARD_SCOPE = "ledgerlens:onboard"


class AuthSettings(BaseModel):
    """``LEDGERLENS_AUTH__*``: how bearer tokens are checked."""

    algorithm: Literal["HS256", "RS256", "PS256", "ES256", "ES384"] = "HS256"
    secret: SecretStr = SecretStr(DEV_SECRET)
    jwks_url: str | None = Field(
        default=None, description="identity provider's JWKS (every algorithm but HS256)"
    )

    @property
    def uses_jwks(self) -> bool:
        """Tokens come from the identity provider (an asymmetric algorithm, its JWKS)."""
        return self.algorithm in JWKS_ALGORITHMS

    issuer: str | None = None
    audience: str | None = None
    leeway_s: int = Field(default=30, ge=0, le=300)
    max_dev_ttl_hours: float = Field(default=24 * 30, gt=0)


class AuthError(Exception):
    """The request carries no valid bearer token (401)."""


class Forbidden(Exception):
    """The token is valid for this business but its role may not do this (403)."""


class Permission(enum.StrEnum):
    READ_BUSINESS = "read_business"  # the business itself and its accounts
    READ_LEDGER = "read_ledger"  # transactions
    EXPORT = "export"  # the whole ledger, unmasked
    INGEST = "ingest"  # push transactions, upload statements
    ANNOTATE = "annotate"  # correct categories, mark unusual lines expected (owner)
    READ_INSIGHTS = "read_insights"  # insights feed, digests, preferences, offers
    MANAGE = "manage"  # insight actions, preferences, consent, card policy (owner)
    READ_CARDS = "read_cards"  # cards and their policy (employees: their own card)
    AUTHORIZE_CARD = "authorize_card"  # ask for a card authorization decision
    ERASE = "erase"  # delete the whole business (owner)
    AUDIT = "audit"  # the hash-chained decision log (bank staff only)


_ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission) - {Permission.AUDIT},
    Role.ACCOUNTANT: frozenset(
        {
            Permission.READ_BUSINESS,
            Permission.READ_LEDGER,
            Permission.EXPORT,
            Permission.READ_INSIGHTS,
            Permission.READ_CARDS,
        }
    ),
    # own cards only (the card routes narrow to the token's card)
    Role.EMPLOYEE: frozenset(
        {Permission.READ_BUSINESS, Permission.READ_CARDS, Permission.AUTHORIZE_CARD}
    ),
    Role.BANK_STAFF: frozenset(
        {
            Permission.READ_BUSINESS,
            Permission.READ_LEDGER,
            Permission.READ_INSIGHTS,
            Permission.READ_CARDS,
            Permission.AUDIT,
        }
    ),
    Role.SERVICE: frozenset({Permission.INGEST}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's subject and its roles per business."""

    subject: str
    roles: Mapping[str, Role] = field(default_factory=dict)
    pii: bool = False
    token_key: str = ""  # a hash of the token: the rate limiter's key, never the token itself
    cards: Mapping[str, frozenset[str]] = field(default_factory=dict)  # an employee's own cards
    onboard: bool = False  # ``ledgerlens:onboard``: may create businesses and accounts

    def role_for(self, business_id: str) -> Role | None:
        return self.roles.get(business_id)

    def sees_pii(self, business_id: str) -> bool:
        """Raw names and IBANs are for the business's own people, or staff granted them."""
        role = self.role_for(business_id)
        return role is not None and (role != Role.BANK_STAFF or self.pii)


def authorize(principal: Principal, business_id: str, permission: Permission) -> Role:
    """The caller's role on the business if it grants ``permission``.

    Raises ``NotFound`` when the token grants nothing on the business (the same answer as for a
    business that does not exist) and ``Forbidden`` when the role lacks the permission.
    """
    role = principal.role_for(business_id)
    if role is None:
        raise NotFound("no such business")
    allowed = _ROLE_PERMISSIONS[role]
    if permission == Permission.EXPORT and role == Role.BANK_STAFF and principal.pii:
        return role
    if permission not in allowed:
        raise Forbidden(f"the {role} role may not {permission.value.replace('_', ' ')}")
    return role


def authorize_onboarding(principal: Principal, business_id: str | None = None) -> None:
    """Pass when the token carries ``ledgerlens:onboard`` (creating businesses and accounts).

    Without it: ``Forbidden`` to create a business; for an account, ``NotFound`` when the token
    grants nothing on ``business_id`` (tenant isolation, as ``authorize``) and ``Forbidden``
    when it grants a role there (no role may onboard without the scope).
    """
    if principal.onboard:
        return
    if business_id is None:
        raise Forbidden(f"creating a business needs the {ONBOARD_SCOPE} scope")
    role = principal.role_for(business_id)
    if role is None:
        raise NotFound("no such business")
    raise Forbidden(f"the {role} role may not add accounts (needs the {ONBOARD_SCOPE} scope)")


def _scopes(claims: Mapping[str, Any]) -> list[str]:
    raw = claims.get("scopes", claims.get("scope", ""))
    if isinstance(raw, str):
        return raw.split()
    return [s for s in raw if isinstance(s, str)] if isinstance(raw, list | tuple) else []


def _roles_from_claims(claims: Mapping[str, Any]) -> tuple[dict[str, Role], bool]:
    roles: dict[str, Role] = {}
    biz = claims.get("biz")
    if isinstance(biz, Mapping):
        for business_id, role in biz.items():
            if isinstance(business_id, str) and role in Role._value2member_map_:
                roles[business_id] = Role(role)
    scopes = _scopes(claims)
    for scope in scopes:
        if scope.startswith("business:"):
            business_id, _, role = scope.removeprefix("business:").rpartition(":")
            if business_id and role in Role._value2member_map_:
                roles[business_id] = Role(role)
    return roles, PII_SCOPE in scopes


class TokenVerifier:
    """Checks a bearer token and turns its claims into a ``Principal``.

    A verified token is remembered (bounded LRU, keyed by the token itself) until the earlier of
    its ``exp`` and ``cache_s`` seconds: a client sends the same token with every request, and
    checking its signature and claims again each time is most of what auth costs. A token is
    cached only after it verified; ``exp`` is still honoured to the second, without the leeway.
    """

    def __init__(
        self,
        settings: AuthSettings,
        jwks_client: jwt.PyJWKClient | None = None,
        *,
        cache_s: float = 60.0,
        max_cached: int = 4096,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._jwks = jwks_client
        self._cache_s = cache_s
        self._max_cached = max_cached
        self._clock = clock
        self._cache: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._lock = threading.Lock()  # JWKS tokens verify in the thread pool
        if settings.uses_jwks and jwks_client is None:
            if not settings.jwks_url:
                raise ValueError(f"{settings.algorithm} needs auth.jwks_url")
            self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=3600)

    @property
    def needs_io(self) -> bool:
        """A JWKS token may fetch the keys (network): callers verify it off the event loop."""
        return self._settings.uses_jwks

    def cached(self, token: str) -> Principal | None:
        """The principal of a token verified earlier and not yet expired, else None."""
        with self._lock:
            hit = self._cache.get(token)
            if hit is None:
                return None
            if self._clock() >= hit[1]:
                del self._cache[token]
                return None
            self._cache.move_to_end(token)
            return hit[0]

    def verify(self, token: str) -> Principal:
        hit = self.cached(token)
        if hit is not None:
            return hit
        principal, expires_at = self._verify(token)
        until = min(expires_at, self._clock() + self._cache_s)
        with self._lock:
            self._cache[token] = (principal, until)
            while len(self._cache) > self._max_cached:
                self._cache.popitem(last=False)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        s = self._settings
        try:
            if s.uses_jwks:
                assert self._jwks is not None
                key: Any = self._jwks.get_signing_key_from_jwt(token).key
            else:
                key = s.secret.get_secret_value()
            claims = jwt.decode(
                token,
                key,
                algorithms=[s.algorithm],
                audience=s.audience,
                issuer=s.issuer,
                leeway=s.leeway_s,
                options={"require": ["exp", "sub"], "verify_aud": s.audience is not None},
            )
        except jwt.PyJWKClientConnectionError as exc:
            raise AuthError("the identity provider's keys are unavailable") from exc
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token ({type(exc).__name__})") from exc
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise AuthError("invalid token (no subject)")
        roles, pii = _roles_from_claims(claims)
        raw_cards = claims.get("cards")
        cards = {
            b: frozenset(c for c in ids if isinstance(c, str))
            for b, ids in (raw_cards.items() if isinstance(raw_cards, Mapping) else ())
            if isinstance(b, str) and isinstance(ids, list)
        }
        digest = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:24]
        onboard = ONBOARD_SCOPE in _scopes(claims)
        principal = Principal(
            subject=subject, roles=roles, pii=pii, token_key=digest, cards=cards, onboard=onboard
        )
        return principal, float(claims["exp"])


def issue_dev_token(
    settings: AuthSettings,
    subject: str,
    grants: Mapping[str, Role],
    ttl_hours: float = 12.0,
    pii: bool = False,
    now: datetime | None = None,
    cards: Mapping[str, list[str]] | None = None,
    onboard: bool = False,
) -> str:
    """A development token (HS256) granting ``grants``; production tokens come from the IdP."""
    if settings.algorithm != "HS256":
        raise ValueError(
            f"development tokens are HS256; {settings.algorithm} tokens come from the "
            "identity provider"
        )
    if not 0 < ttl_hours <= settings.max_dev_ttl_hours:
        raise ValueError(f"ttl must be in (0, {settings.max_dev_ttl_hours}] hours")
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "iat": int(issued.timestamp()),
        "exp": int((issued + timedelta(hours=ttl_hours)).timestamp()),
        "biz": {business_id: str(role) for business_id, role in grants.items()},
    }
    scopes = [s for s, wanted in ((PII_SCOPE, pii), (ONBOARD_SCOPE, onboard)) if wanted]
    if scopes:
        claims["scope"] = " ".join(scopes)
    if cards:
        claims["cards"] = {b: list(ids) for b, ids in cards.items()}
    if settings.issuer:
        claims["iss"] = settings.issuer
    if settings.audience:
        claims["aud"] = settings.audience
    return jwt.encode(claims, settings.secret.get_secret_value(), algorithm="HS256")
