"""Saved views of the ticket list: a name for a queue with its filters and sort."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import User
from aftersales.core.roles import Capability
from aftersales.core.services import audit_record

from ..models import SavedView

# The filters a view may keep: those of the console's ticket list (its form checks the values
# again when the view is opened, so a stale value is dropped there, never trusted).
SAVED_VIEW_FILTER_KEYS = frozenset({"q", "status", "type", "priority", "channel", "team"})
MAX_SAVED_VIEWS_PER_OWNER = 50
_SLUG = re.compile(r"^[a-z0-9-]{1,20}$")


def _clean(*, name: str, queue: str, filters: dict[str, Any], sort: str) -> tuple[str, dict[str, str]]:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(details={"name": _("Give the view a name.")})
    if len(name) > 60:
        raise ValidationFailed(details={"name": _("A view name is at most 60 characters.")})
    if not _SLUG.match(queue or ""):
        raise ValidationFailed(details={"queue": _("Not a queue.")})
    if sort and not _SLUG.match(sort.lstrip("-")):
        raise ValidationFailed(details={"sort": _("Not a sort order.")})
    if not isinstance(filters, dict):
        raise ValidationFailed(details={"filters": _("Filters must be a set of names and values.")})
    cleaned: dict[str, str] = {}
    for key, value in filters.items():
        if key not in SAVED_VIEW_FILTER_KEYS:
            raise ValidationFailed(details={"filters": _("“%(name)s” is not a filter.") % {"name": key}})
        text = "" if value is None else str(value).strip()
        if len(text) > 100:
            raise ValidationFailed(details={"filters": _("A filter value is at most 100 characters.")})
        if text:
            cleaned[key] = text
    return name, cleaned


@transaction.atomic
def saved_view_save(
    *,
    actor: User,
    name: str,
    queue: str,
    filters: dict[str, Any],
    sort: str = "",
    is_shared: bool = False,
) -> SavedView:
    """Create the actor's view, or replace the one of the same name it already has."""
    if not actor.is_active or not actor.is_staff_member:
        raise PermissionDenied()
    if is_shared and not actor.can(Capability.VIEW_SHARE):
        raise PermissionDenied(_("Only supervisors and administrators share views with everyone."))
    name, cleaned = _clean(name=name, queue=queue, filters=filters, sort=sort)
    values = {"queue": queue, "filters": cleaned, "sort": sort, "is_shared": is_shared}
    existing = SavedView.objects.select_for_update().filter(owner=actor, name=name).first()
    if existing is None:
        if SavedView.objects.filter(owner=actor).count() >= MAX_SAVED_VIEWS_PER_OWNER:
            raise ValidationFailed(
                details={
                    "name": _("You have %(count)s saved views; delete one first.")
                    % {"count": MAX_SAVED_VIEWS_PER_OWNER}
                }
            )
        view = SavedView.objects.create(owner=actor, name=name, **values)
        audit_record(actor=actor, obj=view, action="saved_view.create", after={"name": name, **values})
        return view
    before = {key: getattr(existing, key) for key in values}
    for key, value in values.items():
        setattr(existing, key, value)
    existing.updated_at = timezone.now()
    existing.save(update_fields=[*values, "updated_at"])
    audit_record(actor=actor, obj=existing, action="saved_view.update", before=before, after=values)
    return existing


@transaction.atomic
def saved_view_delete(*, actor: User, view: SavedView) -> None:
    """The owner deletes its view; a shared view may also be withdrawn by whoever may share."""
    if view.owner_id != actor.pk and not (view.is_shared and actor.can(Capability.VIEW_SHARE)):
        raise PermissionDenied()
    before = {"name": view.name, "queue": view.queue, "filters": view.filters, "is_shared": view.is_shared}
    audit_record(actor=actor, obj=view, action="saved_view.delete", before=before)
    view.delete()
