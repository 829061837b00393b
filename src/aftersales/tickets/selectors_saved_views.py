"""Reads of saved views: a user's own and those shared with all staff."""

from __future__ import annotations

from django.db.models import Q

from aftersales.core.errors import NotFound
from aftersales.core.models import User

from .models import SavedView


def saved_views_for(user: User) -> list[SavedView]:
    """The user's own views first, then the shared ones of others (by name)."""
    if not user.is_active or not user.is_staff_member:
        return []
    views = list(
        SavedView.objects.filter(Q(owner=user) | Q(is_shared=True))
        .select_related("owner")
        .order_by("name", "id")
    )
    return sorted(views, key=lambda view: (view.owner_id != user.pk, view.name.casefold(), view.pk))


def saved_view_get_for_user(*, view_id: int, user: User) -> SavedView:
    """A view the user may see (its own or a shared one); otherwise 404."""
    view = None
    if user.is_active and user.is_staff_member:
        view = SavedView.objects.filter(Q(owner=user) | Q(is_shared=True), pk=view_id).first()
    if view is None:
        raise NotFound(details={"view": view_id})
    return view
