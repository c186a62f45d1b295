"""Bearer-key authentication of the intake API (`Authorization: Bearer lre_...`), as a dependency.

Every intake route (conversions now; leads and activities next) takes `Tenant = Depends(require_tenant)`:
the tenant comes from the key, never from the body, so a caller can only ever touch its own
tenant's rows. A missing, malformed, unknown or revoked key gets 401 with
`WWW-Authenticate: Bearer` (RFC 6750), and the body says no more than that.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.services import api_keys

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="A tenant's API key (`lre_...`), made on the console's Settings page or with "
    "`python -m app api-key create --tenant SLUG`.",
)

UNAUTHORIZED_DETAIL = "a valid API key is required: Authorization: Bearer <key>"


def unauthorized() -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=UNAUTHORIZED_DETAIL,
        headers={"WWW-Authenticate": "Bearer"},
    )


def require_tenant(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> int:
    """The id of the tenant whose active key the request carries; 401 otherwise.

    A sync dependency: FastAPI runs it in its thread pool, so the key's index probe never
    blocks the event loop.
    """
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized()
    tenant_id = api_keys.authenticate(credentials.credentials)
    if tenant_id is None:
        raise unauthorized()
    return tenant_id


Tenant = Annotated[int, Depends(require_tenant)]
"""A route parameter typed `tenant_id: Tenant` is the authenticated tenant's id."""
