"""Tokens from an identity provider that signs with PS256, ES256 or ES384 (not only RS256)
validate against its JWKS; the pinned algorithm refuses every other, HS256 with the public key
as its secret included (the algorithm-confusion attack)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from tests.local_servers import serve_jwks

from ledgerlens.core.ledger import Role
from ledgerlens.serve.security import JWKS_ALGORITHMS, AuthError, AuthSettings, TokenVerifier
from ledgerlens.serve.settings import ServeSettings

_KEYS: dict[str, Callable[[], Any]] = {
    "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "PS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "ES384": lambda: ec.generate_private_key(ec.SECP384R1()),
}


def _jwk(algorithm: str, key: Any) -> dict[str, Any]:
    family = (
        jwt.algorithms.RSAAlgorithm if algorithm[:2] in ("RS", "PS") else jwt.algorithms.ECAlgorithm
    )
    out: dict[str, Any] = json.loads(family.to_jwk(key.public_key()))
    out.update({"kid": "k1", "use": "sig", "alg": algorithm})
    return out


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _hs256(claims: dict[str, Any], secret: bytes) -> str:
    """An HS256 token made by hand (PyJWT itself refuses a PEM key as an HMAC secret)."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
    body = _b64(json.dumps(claims).encode())
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(mac)}"


@pytest.mark.parametrize("algorithm", JWKS_ALGORITHMS)
def test_each_provider_algorithm_validates_and_refuses_the_others(algorithm: str) -> None:
    key = _KEYS[algorithm]()
    with serve_jwks([_jwk(algorithm, key)]) as url:
        _check(algorithm, key, url)


def _check(algorithm: str, key: Any, url: str) -> None:
    verifier = TokenVerifier(AuthSettings(algorithm=algorithm, jwks_url=url))  # type: ignore[arg-type]
    claims = {"sub": "alice", "exp": int(time.time()) + 60, "biz": {"biz-a": "owner"}}
    token = jwt.encode(claims, key, algorithm=algorithm, headers={"kid": "k1"})
    assert verifier.verify(token).roles == {"biz-a": Role.OWNER}
    assert verifier.needs_io  # fetched off the event loop

    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    forged = _hs256(claims, public_pem)  # keyed with the public key: must not pass
    with pytest.raises(AuthError):
        verifier.verify(forged)
    other = {"RS256": "PS256", "PS256": "RS256", "ES256": "ES384", "ES384": "ES256"}[algorithm]
    wrong_key = _KEYS[other]()
    with pytest.raises(AuthError):  # signed by another key (and algorithm) under the same kid
        verifier.verify(jwt.encode(claims, wrong_key, algorithm=other, headers={"kid": "k1"}))


@pytest.mark.parametrize("algorithm", JWKS_ALGORITHMS)
def test_production_needs_the_jwks_url_for_every_provider_algorithm(algorithm: str) -> None:
    auth = AuthSettings(algorithm=algorithm)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="JWKS_URL"):
        ServeSettings(environment="production", auth=auth)
    ok = AuthSettings(algorithm=algorithm, jwks_url="https://idp.test/jwks")  # type: ignore[arg-type]
    assert ServeSettings(environment="production", auth=ok).auth.uses_jwks
