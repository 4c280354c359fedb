"""API keys, principals and the one authorization mechanism every route declares.

A route states who may call it with `Depends(requires(...))` or `Depends(open_data())`. The
rule object is kept on the route so that a test can read every route's rule and compare it
with the declared access table.
Province scope is checked by services against the target record's province, which comes from
the database, and the principal's province, which comes from its key: never from the request.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

from fastapi import Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.utils import get_authorization_scheme_param

from app.core import keys_repository
from app.core.db import Session, get_session
from app.core.errors import Forbidden, Unauthorized

KEY_PREFIX = "ih_"


class Role(StrEnum):
    """Roles of API keys (peran)."""

    admin = "admin"
    reviewer = "reviewer"
    coordinator = "coordinator"
    integration = "integration"
    # Competitions: scores the entries assigned to it (penilai); no province.
    evaluator = "evaluator"
    # Competitions: acts for one institution and those under it (admin instansi).
    submitter = "submitter"


PROVINCE_SCOPED_ROLES = frozenset({Role.coordinator, Role.integration})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an API key's id, name, role and (for scoped roles) its province."""

    id: uuid.UUID
    name: str
    role: Role
    province_code: str | None
    # A submitter's institution: it acts for it and the institutions under it.
    institution_id: uuid.UUID | None = None

    @property
    def is_scoped(self) -> bool:
        return self.role in PROVINCE_SCOPED_ROLES

    def can_act_in(self, province_code: str | None) -> bool:
        """Whether this principal may act on a record that belongs to `province_code`."""
        if not self.is_scoped:
            return True
        return province_code is not None and province_code[:2] == self.province_code

    def ensure_province(self, province_code: str | None, what: str = "record") -> None:
        if not self.can_act_in(province_code):
            raise Forbidden(
                f"This key is limited to province {self.province_code}; the {what} is not in it.",
                code="other_province",
            )


async def ensure_institution(
    session: Session, principal: Principal, institution_id: uuid.UUID, what: str = "record"
) -> None:
    """403 when a submitter key acts outside its institution and those under it (other
    roles are not institution-scoped)."""
    if principal.role != Role.submitter:
        return
    if principal.institution_id is None or not await keys_repository.institution_within(
        session, institution_id, principal.institution_id
    ):
        raise Forbidden(
            f"This key acts for institution {principal.institution_id} and those under it; "
            f"the {what} is not among them.",
            code="other_institution",
        )


def generate_key() -> tuple[str, str, str]:
    """A new key: (plaintext shown once, prefix kept for humans, SHA-256 hash stored)."""
    secret = secrets.token_urlsafe(32)  # 256 bits
    plaintext = KEY_PREFIX + secret
    return plaintext, plaintext[:10], hash_key(plaintext)


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


# Headers some clients use for API keys instead of `Authorization`.
_OTHER_KEY_HEADERS = ("x-api-key", "api-key", "apikey", "x-api-token", "x-auth-token")
HOW_TO_SEND = "send `Authorization: Bearer ih_…`"


# The API's one security scheme, as OpenAPI documents it (Swagger UI's *Authorize*): added to
# the document by `app.main`, with each operation's requirement read from its rule.
SECURITY_SCHEME_NAME = "ApiKey"
SECURITY_SCHEME = HTTPBearerModel(
    description="An API key issued by `inovasi keys create`: `Authorization: Bearer ih_…`."
)
_UNKNOWN = object()


async def authenticate(request: Request) -> Principal | None:
    """The caller's principal from `Authorization: Bearer ih_…`, or None for an anonymous
    request; a bad key is always 401. Looked up once per request (kept in
    `request.state.principal`), whichever of the rule and the idempotency dependency asks
    first. A key is looked up in the request's session (`get_session`, the same one the
    route gets); an anonymous request needs no session for it. The rules take the request
    alone: FastAPI solves a dependency's own dependencies again even when their value is
    cached, and the session declared below the rule cost a read by id 7.2% of its
    instructions (callgrind: 1,379,500 with it, 1,280,429 without).

    A plain function that the rules call, not a dependency of its own, nor FastAPI's
    `HTTPBearer` in the dependency tree: FastAPI solves every dependency on every request,
    and the rule, the scheme and the session again below it came to 8.4% of the
    instructions of an anonymous read by id (callgrind, in-process ASGI loop on the 10k bench
    database: 2,218,839 with them, 2,032,933 without any principal)."""
    known = request.scope.get("state", {}).get("principal", _UNKNOWN)
    if known is not _UNKNOWN:
        return cast(Principal | None, known)
    principal = await _principal_of(request)
    request.state.principal = principal
    return principal


async def _principal_of(request: Request) -> Principal | None:
    header = request.headers.get("authorization")
    scheme, token = get_authorization_scheme_param(header)
    if not (header and scheme and token) or scheme.lower() != "bearer":
        if header:
            if header.strip().lower().startswith("bearer"):
                raise key_required(request)
            raise Unauthorized(f"Use the Bearer scheme: {HOW_TO_SEND}.")
        return None
    # Every key that is not a live one gets the same answer as a missing key: nothing
    # tells an unknown key from a revoked or a malformed one.
    if not token.startswith(KEY_PREFIX) or len(token) > 200:
        raise key_required(request)
    row = await keys_repository.authenticate(await get_session(request), hash_key(token))
    if row is None:
        raise key_required(request)
    return Principal(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        province_code=row.province_code,
        institution_id=row.institution_id,
    )


def key_required(request: Request) -> Unauthorized:
    """The 401 of a request that sent no key, saying how to send one."""
    misplaced = next((h for h in _OTHER_KEY_HEADERS if h in request.headers), None)
    if misplaced is not None:
        return Unauthorized(
            f"An API key goes in the Authorization header, not {misplaced}: {HOW_TO_SEND}."
        )
    return Unauthorized(f"A valid API key is required: {HOW_TO_SEND}.")


@dataclass(frozen=True, slots=True)
class AccessRule:
    """Who may call a route.

    `anonymous`: no key needed (open data). `roles`: the roles allowed when a key is sent.
    `province_scoped`: the service checks the target's province against the key's for
    coordinator and integration keys.
    """

    roles: frozenset[Role]
    anonymous: bool = False
    province_scoped: bool = False

    def check(self, principal: Principal | None, request: Request) -> Principal | None:
        if principal is None:
            if self.anonymous:
                return None
            raise key_required(request)
        if principal.role not in self.roles:
            raise Forbidden(
                f"The role '{principal.role}' may not do this.", code="role_not_allowed"
            )
        return principal


@dataclass(frozen=True, slots=True)
class Requires(AccessRule):
    """A rule that needs a key: the route receives the Principal."""

    async def __call__(self, request: Request) -> Principal:
        principal = await authenticate(request)
        if principal is None:
            raise key_required(request)
        self.check(principal, request)
        return principal


@dataclass(frozen=True, slots=True)
class MayRead(AccessRule):
    """A rule that admits anonymous callers: the route receives the Principal or None."""

    async def __call__(self, request: Request) -> Principal | None:
        return self.check(await authenticate(request), request)


ALL_ROLES = frozenset(Role)


def requires(*roles: Role, province_scoped: bool = False) -> Requires:
    """Rule of a write route: `Depends(requires(Role.admin, Role.coordinator, ...))`."""
    return Requires(roles=frozenset(roles) or ALL_ROLES, province_scoped=province_scoped)


def open_data(*roles: Role) -> MayRead:
    """Rule of a read route open to anonymous clients (a key, if sent, must be valid)."""
    return MayRead(roles=frozenset(roles) or ALL_ROLES, anonymous=True)


def access_rule_of(dependant: object) -> AccessRule | None:
    """The AccessRule a route's dependency tree declares (used by the access-table test)."""
    for dep in getattr(dependant, "dependencies", []):
        if isinstance(dep.call, AccessRule):
            return dep.call
        found = access_rule_of(dep)
        if found is not None:
            return found
    return None
