"""The open API: ``/api/v1``, OpenAPI at ``/api/v1/docs``."""

from __future__ import annotations

from ninja import NinjaAPI

from jianjian.api import directory, errors, lookups, manifests, parcels
from jianjian.api.auth import Session, TokenAuth

DESCRIPTION = """\
jianjian's API for couriers, carrier systems and counters.

* **Authentication**: `Authorization: Bearer jj_…` (a token an admin issues, with a role), or the
  pages' session (with the CSRF token).
* **Scope**: a courier or carrier system sees only its carrier's parcels in its communities;
  anything else answers 404.
* **Idempotency**: every POST accepts an `Idempotency-Key` header. The same key with the same
  request replays the first answer; with a different request it answers 422.
* **Errors** are JSON `{"code": …, "message": …}` with a stable `code`.
* **Lists** are paginated with `limit` and `offset`.
"""

api = NinjaAPI(
    title="jianjian",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    auth=[TokenAuth(), Session()],
    docs_url="/docs",
)
errors.install(api)
api.add_router("", parcels.router)
api.add_router("", manifests.router)
api.add_router("", directory.router)
api.add_router("", lookups.router)
