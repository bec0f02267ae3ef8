"""/manifests: pre-advice from couriers and carrier systems."""

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import paginate

from jianjian import access
from jianjian.api.auth import principal, writer
from jianjian.api.errors import ERRORS, Forbidden
from jianjian.api.pagination import Mapped, Pages
from jianjian.api.schemas import ManifestIn, ManifestOut, manifest_out
from jianjian.couriers import manifests
from jianjian.couriers.models import Manifest
from jianjian.parcels import services

router = Router(tags=["manifests"])


def _visible(who: access.Principal) -> QuerySet[Manifest]:
    return access.api_manifests(who)


@router.post("/manifests", response={200: ManifestOut, 201: ManifestOut, **ERRORS})
def send_manifest(request: HttpRequest, body: ManifestIn):  # type: ignore[no-untyped-def]
    """Announce the day's parcels for a community. With any bad row nothing is imported (422
    lists each row's line and reason) unless ``import_good_rows`` is true. Re-sending the same
    manifest changes nothing (200, ``replayed``)."""
    who = writer(request)
    if not access.may_send_manifests(who):
        raise Forbidden(_("Only couriers, carrier systems and admins send manifests."))
    community = access.api_community(who, body.community)
    courier = access.api_courier(who)
    carrier = access.api_carrier(who)
    rows = manifests.read_json(p.model_dump() for p in body.parcels)
    actor = (
        services.Actor.of(who.user)
        if who.user is not None
        else services.Actor.system(f"api:{who.token.name if who.token else ''}")
    )
    report = manifests.import_rows(
        community,
        rows,
        actor=actor,
        source="json",
        courier=courier,
        carrier=carrier,
        import_good_rows=body.import_good_rows,
    )
    if report.manifest is None:
        if not report.errors:
            raise manifests.ManifestError(_("The manifest has no parcels."), "empty")
        return Status(
            422,
            {
                "code": "manifest_invalid",
                "message": _(
                    "%(count)s rows are wrong; nothing was imported. Fix them, or send again with "
                    "import_good_rows to import the others."
                )
                % {"count": len(report.errors)},
                "errors": [e.as_dict() for e in report.errors],
            },
        )
    out = manifest_out(
        report.manifest,
        replayed=report.replayed,
        planned=report.planned if not report.replayed else None,
        overflow=report.overflow if not report.replayed else None,
    )
    return Status(200 if report.replayed else 201, out)


@router.get("/manifests", response={200: list[ManifestOut], **ERRORS})
@paginate(Pages)
def list_manifests(request: HttpRequest):  # type: ignore[no-untyped-def]
    return Mapped(_visible(principal(request)).order_by("-pk"), manifest_out)


@router.get("/manifests/{manifest_id}", response={200: ManifestOut, **ERRORS})
def get_manifest(request: HttpRequest, manifest_id: int):  # type: ignore[no-untyped-def]
    return manifest_out(get_object_or_404(_visible(principal(request)), pk=manifest_id))
