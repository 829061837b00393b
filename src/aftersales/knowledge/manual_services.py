"""Writes of the standard manual: its chapters and sections, and published editions.

An edition freezes the live version of every article in the manual, numbers the chapters
(1, 2, …) and sections (1.1, 1.2, …), renders HTML and PDF from that frozen outline, and records
what changed since the previous edition, so every region reads the same text and sees what moved.
"""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.core.errors import Conflict, NotFound, ValidationFailed
from aftersales.core.events import publish
from aftersales.core.models import User
from aftersales.core.roles import Capability
from aftersales.core.services import audit_record

from .checks import KEY_RE, check_text, require
from .events import ManualEditionPublished
from .manual_export import EditionDocument, OutlineEntry, render_html, render_pdf
from .models import Article, ArticleVersion, Audience, Locale, Manual, ManualEdition, ManualSection

__all__ = [
    "manual_create",
    "manual_publish_edition",
    "manual_section_add",
    "manual_section_move",
    "manual_section_remove",
    "manual_section_update",
    "manual_update",
]

_UNSET: Any = object()


def _validate_manual(*, slug: str, title_zh: str, title_en: str, locale: str, audience: str) -> None:
    errors: dict[str, str] = {}
    if not KEY_RE.match(slug or "") or len(slug) > 80:
        errors["slug"] = str(_("Use lower-case letters, digits and hyphens (at most 80)."))
    check_text(errors, "title_zh", title_zh, max_length=200, required=not title_en)
    check_text(errors, "title_en", title_en, max_length=200, required=False)
    if locale not in Locale.values:
        errors["locale"] = str(_("Choose Chinese or English."))
    if audience not in Audience.values:
        errors["audience"] = str(_("Choose public or internal."))
    if errors:
        raise ValidationFailed(details=errors)


@transaction.atomic
def manual_create(
    *,
    actor: User | None,
    slug: str,
    title_zh: str,
    title_en: str = "",
    locale: str = Locale.ZH_HANS,
    audience: str = Audience.PUBLIC,
) -> Manual:
    user = require(actor, Capability.KB_EDIT)
    _validate_manual(slug=slug, title_zh=title_zh, title_en=title_en, locale=locale, audience=audience)
    if Manual.objects.filter(slug=slug).exists():
        raise ValidationFailed(details={"slug": str(_("This slug is taken."))})
    manual = Manual.objects.create(
        slug=slug, title_zh=title_zh, title_en=title_en, locale=locale, audience=audience
    )
    audit_record(
        actor=user,
        obj=manual,
        action="kb.manual.create",
        after={
            "slug": slug,
            "title_zh": title_zh,
            "title_en": title_en,
            "locale": locale,
            "audience": audience,
        },
    )
    return manual


@transaction.atomic
def manual_update(
    *, actor: User | None, manual: Manual, title_zh: str, title_en: str = "", audience: str | None = None
) -> Manual:
    user = require(actor, Capability.KB_EDIT)
    audience = audience or manual.audience
    _validate_manual(
        slug=manual.slug, title_zh=title_zh, title_en=title_en, locale=manual.locale, audience=audience
    )
    before = {"title_zh": manual.title_zh, "title_en": manual.title_en, "audience": manual.audience}
    manual.title_zh, manual.title_en, manual.audience = title_zh, title_en, audience
    manual.updated_at = timezone.now()
    manual.save(update_fields=["title_zh", "title_en", "audience", "updated_at"])
    audit_record(
        actor=user,
        obj=manual,
        action="kb.manual.update",
        before=before,
        after={"title_zh": title_zh, "title_en": title_en, "audience": audience},
    )
    return manual


def _touch(manual: Manual) -> None:
    Manual.objects.filter(pk=manual.pk).update(updated_at=timezone.now())


@transaction.atomic
def manual_section_add(
    *,
    actor: User | None,
    manual: Manual,
    parent: ManualSection | None = None,
    title: str = "",
    article: Article | None = None,
) -> ManualSection:
    """Append a chapter (no parent) or a section to a chapter; it needs a title or an article."""
    user = require(actor, Capability.KB_EDIT)
    errors: dict[str, str] = {}
    check_text(errors, "title", title, max_length=200, required=article is None)
    if errors:
        raise ValidationFailed(details=errors)
    if parent is not None:
        if parent.manual_id != manual.pk:
            raise NotFound()
        if parent.parent_id is not None:
            raise ValidationFailed(
                details={"parent": str(_("Sections go into chapters, not into sections."))}
            )
    Manual.objects.select_for_update().filter(pk=manual.pk).first()
    top = ManualSection.objects.filter(manual=manual, parent=parent).aggregate(top=Max("position"))["top"]
    section = ManualSection.objects.create(
        manual=manual, parent=parent, title=title, article=article, position=(top or 0) + 1
    )
    audit_record(
        actor=user,
        obj=section,
        action="kb.manual.section_add",
        after={
            "manual": manual.slug,
            "parent": parent.pk if parent else None,
            "title": title,
            "article": article.pk if article else None,
        },
    )
    _touch(manual)
    return section


@transaction.atomic
def manual_section_update(
    *, actor: User | None, section: ManualSection, title: str, article: Article | None = _UNSET
) -> ManualSection:
    user = require(actor, Capability.KB_EDIT)
    new_article = section.article if article is _UNSET else article
    errors: dict[str, str] = {}
    check_text(errors, "title", title, max_length=200, required=new_article is None)
    if errors:
        raise ValidationFailed(details=errors)
    before = {"title": section.title, "article": section.article_id}
    section.title = title
    section.article = new_article
    section.save(update_fields=["title", "article"])
    audit_record(
        actor=user,
        obj=section,
        action="kb.manual.section_update",
        before=before,
        after={"title": title, "article": section.article_id},
    )
    _touch(section.manual)
    return section


@transaction.atomic
def manual_section_move(*, actor: User | None, section: ManualSection, direction: str) -> ManualSection:
    """Swap a chapter or section with its neighbour above ("up") or below ("down")."""
    user = require(actor, Capability.KB_EDIT)
    if direction not in ("up", "down"):
        raise ValidationFailed(details={"direction": str(_("Move up or down."))})
    Manual.objects.select_for_update().filter(pk=section.manual_id).first()
    siblings = list(
        ManualSection.objects.filter(manual_id=section.manual_id, parent_id=section.parent_id).order_by(
            "position", "id"
        )
    )
    index = next((i for i, sibling in enumerate(siblings) if sibling.pk == section.pk), None)
    if index is None:
        raise NotFound()
    target = index - 1 if direction == "up" else index + 1
    if target < 0 or target >= len(siblings):
        return section
    siblings[index], siblings[target] = siblings[target], siblings[index]
    for position, sibling in enumerate(siblings, start=1):
        if sibling.position != position:
            ManualSection.objects.filter(pk=sibling.pk).update(position=position)
    section.refresh_from_db()
    audit_record(
        actor=user,
        obj=section,
        action="kb.manual.section_move",
        before={"index": index + 1},
        after={"index": target + 1, "direction": direction},
    )
    _touch(section.manual)
    return section


@transaction.atomic
def manual_section_remove(*, actor: User | None, section: ManualSection) -> None:
    user = require(actor, Capability.KB_EDIT)
    manual = section.manual
    removed = [section.pk, *section.children.values_list("pk", flat=True)]
    audit_record(
        actor=user,
        obj=section,
        action="kb.manual.section_remove",
        before={"title": section.title, "article": section.article_id, "sections": removed},
    )
    section.delete()
    _touch(manual)


# --- editions -----------------------------------------------------------------------------------


def build_outline(manual: Manual) -> tuple[list[OutlineEntry], list[dict[str, Any]]]:
    """The numbered outline with the live version of every article, and the sections left out
    because their article has no live version."""
    sections = list(
        ManualSection.objects.filter(manual=manual)
        .select_related("article__published_version")
        .order_by("position", "id")
    )
    children: dict[int | None, list[ManualSection]] = {}
    for section in sections:
        children.setdefault(section.parent_id, []).append(section)
    entries: list[OutlineEntry] = []
    skipped: list[dict[str, Any]] = []

    def entry_for(section: ManualSection, number: str, level: int) -> OutlineEntry | None:
        version: ArticleVersion | None = None
        if section.article is not None:
            version = section.article.published_version
            if version is None:
                skipped.append(
                    {"section_id": section.pk, "article_id": section.article_id, "title": section.title}
                )
                if not section.title:
                    return None
        title = section.title or (version.title if version else "")
        return OutlineEntry(
            number=number,
            level=level,
            title=title,
            anchor="s-" + number.replace(".", "-"),
            body=version.body if version else "",
            summary=version.summary if version else "",
            article_id=section.article_id if version else None,
            version_id=version.pk if version else None,
            version_number=version.number if version else None,
        )

    chapter_number = 0
    for chapter in children.get(None, []):
        chapter_entry = entry_for(chapter, str(chapter_number + 1), 1)
        if chapter_entry is None:
            continue
        chapter_number += 1
        entries.append(chapter_entry)
        section_number = 0
        for section in children.get(chapter.pk, []):
            entry = entry_for(section, f"{chapter_number}.{section_number + 1}", 2)
            if entry is None:
                continue
            section_number += 1
            entries.append(entry)
    return entries, skipped


def _changes_since(
    previous: ManualEdition | None, entries: list[OutlineEntry], versions: dict[str, int]
) -> dict[str, Any]:
    by_article = {str(entry.article_id): entry for entry in entries if entry.article_id is not None}
    previous_versions: dict[str, int] = dict(previous.article_versions) if previous else {}
    previous_outline = {
        str(item.get("article_id")): item
        for item in (previous.outline if previous else [])
        if item.get("article_id")
    }
    version_numbers = dict(
        ArticleVersion.objects.filter(pk__in={*versions.values(), *previous_versions.values()}).values_list(
            "pk", "number"
        )
    )
    added, changed, removed = [], [], []
    for article_id, version_id in versions.items():
        entry = by_article[article_id]
        if article_id not in previous_versions:
            added.append(
                {
                    "article_id": int(article_id),
                    "number": entry.number,
                    "title": entry.title,
                    "version": version_numbers.get(version_id),
                }
            )
        elif previous_versions[article_id] != version_id:
            changed.append(
                {
                    "article_id": int(article_id),
                    "number": entry.number,
                    "title": entry.title,
                    "from_version": version_numbers.get(previous_versions[article_id]),
                    "to_version": version_numbers.get(version_id),
                }
            )
    for article_id, version_id in previous_versions.items():
        if article_id not in versions:
            old = previous_outline.get(article_id, {})
            removed.append(
                {
                    "article_id": int(article_id),
                    "number": old.get("number", ""),
                    "title": old.get("title", ""),
                    "version": version_numbers.get(version_id),
                }
            )
    return {
        "previous": previous.label if previous else None,
        "added": added,
        "changed": changed,
        "removed": removed,
    }


@transaction.atomic
def manual_publish_edition(*, actor: User | None, manual: Manual, label: str = "") -> ManualEdition:
    """Freeze the manual as the next numbered edition with HTML, PDF and the changes since the last."""
    user = require(actor, Capability.KB_REVIEW)
    errors: dict[str, str] = {}
    check_text(errors, "label", label, max_length=40, required=False)
    if errors:
        raise ValidationFailed(details=errors)
    manual = Manual.objects.select_for_update().filter(pk=manual.pk).first() or manual
    entries, skipped = build_outline(manual)
    versions = {str(entry.article_id): entry.version_id for entry in entries if entry.version_id is not None}
    if not versions:
        raise ValidationFailed(
            _("The manual has no published articles yet."),
            details={"sections": str(_("Add published articles to the manual first."))},
        )
    previous = ManualEdition.objects.filter(manual=manual).order_by("-number").first()
    number = (previous.number if previous else 0) + 1
    label = label.strip() or f"v{number}"
    if ManualEdition.objects.filter(manual=manual, label=label).exists():
        raise ValidationFailed(details={"label": str(_("An edition with this label exists."))})
    now = timezone.now()
    changes = _changes_since(previous, entries, {key: int(value) for key, value in versions.items() if value})
    changes["skipped"] = skipped
    document = EditionDocument(
        manual_title=manual.title,
        manual_slug=manual.slug,
        locale=manual.locale,
        label=label,
        published_at=now,
        entries=entries,
        changes=changes,
    )
    html = render_html(document)
    pdf = render_pdf(document)
    edition = ManualEdition(
        manual=manual,
        number=number,
        label=label,
        published_at=now,
        published_by=user,
        html=html,
        article_versions=versions,
        changes=changes,
        outline=[entry.as_json() for entry in entries],
    )
    edition.pdf.save(f"{manual.slug}-{label}.pdf", ContentFile(pdf), save=False)
    stored_name = edition.pdf.name
    try:
        with transaction.atomic():
            edition.save()
    except IntegrityError as exc:
        if stored_name:
            edition.pdf.storage.delete(stored_name)
        raise Conflict(_("Another edition was published at the same time; try again.")) from exc
    audit_record(
        actor=user,
        obj=edition,
        action="kb.manual.publish_edition",
        after={
            "manual": manual.slug,
            "number": number,
            "label": label,
            "articles": len(versions),
            "added": len(changes["added"]),
            "changed": len(changes["changed"]),
            "removed": len(changes["removed"]),
        },
    )
    publish(ManualEditionPublished(edition=edition, actor=user))
    return edition
