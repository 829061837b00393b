"""The knowledge-base editor console: articles, versions and review, diffs, translations, the
manual builder and its editions. Reads go through selectors, writes through services."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aftersales.core.errors import ApplicationError, NotFound
from aftersales.core.models import User
from aftersales.shell.views import current_user, fetch_or_404, report_form_errors

from . import selectors, services
from .bot import normalize_locale
from .downloads import edition_html_response, edition_pdf_response
from .editor_forms import (
    ArticleClassForm,
    ArticleCreateForm,
    ArticleFilterForm,
    EditionForm,
    ManualForm,
    PublishForm,
    RejectForm,
    SectionForm,
    VersionTextForm,
)
from .manual_export import change_lines, markdown_to_html
from .models import (
    OPEN_STATUSES,
    Article,
    ArticleVersion,
    Locale,
    ManualEdition,
    ManualSection,
    VersionStatus,
)
from .selectors import EditorFilters

NAV = "kb"


# --- plumbing -----------------------------------------------------------------------------------


def editor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Editor pages are for writers (``kb.edit``); anybody else gets 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.can_edit(request.user):
            raise DjangoPermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _report(request: HttpRequest, error: ApplicationError) -> None:
    messages.error(request, str(error.message))
    for field, detail in (error.details or {}).items():
        if isinstance(detail, str | int | float):
            messages.warning(request, f"{field}: {detail}")


def _article(request: HttpRequest, article_id: int) -> Article:
    article: Article = fetch_or_404(
        lambda: selectors.article_get_for_user(user=current_user(request), article_id=article_id)
    )
    return article


def _render(request: HttpRequest, template: str, context: dict[str, Any], *, tab: str) -> HttpResponse:
    """Render an editor page with what the sub-navigation needs."""
    context.setdefault("nav", NAV)
    context["kb_tab"] = tab
    context["kb_can_review"] = selectors.can_review(request.user)
    return render(request, template, context)


def _with_preview(form: Any) -> Any:
    """The body textarea refreshes the Markdown preview as one types (HTMX)."""
    form.fields["body"].widget.attrs.update(
        {
            "hx-post": reverse("knowledge:editor-preview"),
            "hx-trigger": "load, keyup changed delay:400ms",
            "hx-target": "#kb-preview",
        }
    )
    return form


def _article_url(article: Article, **query: Any) -> str:
    url = reverse("knowledge:editor-article", args=[article.pk])
    return f"{url}?{urlencode(query)}" if query else url


# --- articles -----------------------------------------------------------------------------------


@login_required
@require_GET
def article_list(request: HttpRequest) -> HttpResponse:
    if not selectors.can_edit(request.user):
        # Staff who do not write (technicians, parts clerks) read the knowledge in the help centre.
        if getattr(request.user, "is_staff_member", False):
            return redirect("knowledge:help-root")
        raise DjangoPermissionDenied
    user = current_user(request)
    query = request.GET.copy()
    if "locale" not in query:
        # The list opens on the reader's language; "any language" stays one choice away.
        query["locale"] = normalize_locale(get_language())
    form = ArticleFilterForm(query)
    filters = EditorFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = EditorFilters(
            status=data["status"] or None,
            locale=data["locale"] or None,
            category_id=data["category"].pk if data["category"] else None,
            q=data["q"] or None,
        )
    articles: list[Article] = []
    next_cursor = None
    try:
        articles, next_cursor = selectors.article_list_for_editor(
            user=user, filters=filters, cursor=request.GET.get("cursor") or None, limit=50
        )
    except ApplicationError as exc:
        _report(request, exc)
    next_query = None
    if next_cursor:
        query = request.GET.copy()
        query["cursor"] = next_cursor
        next_query = query.urlencode()
    review_count = (
        ArticleVersion.objects.filter(status=VersionStatus.REVIEW).count()
        if selectors.can_review(user)
        else 0
    )
    return _render(
        request,
        "knowledge/editor/article_list.html",
        {
            "nav": NAV,
            "form": form,
            "articles": articles,
            "next_query": next_query,
            "review_count": review_count,
        },
        tab="articles",
    )


@editor_required
@require_http_methods(["GET", "POST"])
def article_new(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    translation_of = None
    source_id = request.GET.get("translation_of") or request.POST.get("translation_of")
    if source_id and str(source_id).isdigit():
        translation_of = _article(request, int(source_id))
    if request.method == "POST":
        form = ArticleCreateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                article = services.article_create(
                    actor=user,
                    locale=data["locale"],
                    key=data["key"],
                    title=data["title"],
                    body=data["body"],
                    summary=data["summary"],
                    category=data["category"],
                    product_models=data["product_models"],
                    tags=form.tag_names(),
                    audience=data["audience"],
                    translation_of=translation_of,
                    change_note=data["change_note"],
                )
            except ApplicationError as exc:
                _report(request, exc)
            else:
                messages.success(request, _("The article was created as a draft."))
                return redirect(_article_url(article))
        else:
            report_form_errors(request, form)
    else:
        initial: dict[str, Any] = {"locale": Locale.ZH_HANS}
        # "Write an article" from the missing-articles report brings the searched words.
        if request.GET.get("locale") in Locale.values:
            initial["locale"] = request.GET["locale"]
        if request.GET.get("title"):
            initial["title"] = request.GET["title"][:200]
        if translation_of is not None:
            other = Locale.EN if translation_of.locale == Locale.ZH_HANS else Locale.ZH_HANS
            initial.update(
                locale=other,
                key=translation_of.key,
                category=translation_of.category,
                audience=translation_of.audience,
                tags=", ".join(tag.name for tag in translation_of.tags.all()),
                product_models=list(translation_of.product_models.all()),
                translation_of=translation_of.pk,
            )
        form = ArticleCreateForm(initial=initial)
    _with_preview(form)
    return _render(
        request,
        "knowledge/editor/article_new.html",
        {"nav": NAV, "form": form, "translation_of": translation_of},
        tab="new",
    )


def _working_version(article: Article) -> ArticleVersion | None:
    """The version the editor edits: the open draft/review, else the newest version."""
    open_version = (
        ArticleVersion.objects.filter(article=article, status__in=sorted(OPEN_STATUSES))
        .order_by("-number")
        .first()
    )
    return open_version or ArticleVersion.objects.filter(article=article).order_by("-number").first()


@editor_required
@require_GET
def article_detail(request: HttpRequest, article_id: int) -> HttpResponse:
    user = current_user(request)
    article = _article(request, article_id)
    versions = selectors.article_versions(user=user, article=article)
    working = _working_version(article)
    open_version = working if working is not None and working.status in OPEN_STATUSES else None
    text_form = VersionTextForm(
        initial={
            "title": working.title if working else "",
            "summary": working.summary if working else "",
            "body": working.body if working else "",
            "change_note": open_version.change_note if open_version else "",
        }
    )
    _with_preview(text_form)
    class_form = ArticleClassForm(
        initial={
            "category": article.category,
            "audience": article.audience,
            "tags": ", ".join(tag.name for tag in article.tags.all()),
            "product_models": list(article.product_models.all()),
        }
    )
    translations = selectors.article_translations(article=article)
    missing_locales = [
        (code, label)
        for code, label in Locale.choices
        if code != article.locale and code not in {other.locale for other in translations}
    ]
    now = timezone.now()
    linkable = (
        list(
            Article.objects.filter(locale__in=[code for code, _label in missing_locales])
            .exclude(translation_group=article.translation_group)
            .select_related("published_version")
            .order_by("key")[:500]
        )
        if missing_locales
        else []
    )
    return _render(
        request,
        "knowledge/editor/article_detail.html",
        {
            "nav": NAV,
            "article": article,
            "versions": versions,
            "working": working,
            "open_version": open_version,
            "text_form": text_form,
            "class_form": class_form,
            "publish_form": PublishForm(),
            "reject_form": RejectForm(),
            "translations": translations,
            "missing_locales": missing_locales,
            "linkable": linkable,
            "can_review": selectors.can_review(user),
            "scheduled": [
                v
                for v in versions
                if v.status == VersionStatus.PUBLISHED and v.effective_at and v.effective_at > now
            ],
            "live_html": markdown_to_html(article.published_version.body)
            if article.published_version
            else "",
        },
        tab="articles",
    )


def _version_from_post(request: HttpRequest, article: Article) -> ArticleVersion:
    number = request.POST.get("number", "")
    if not number.isdigit() or len(number) > 9:
        raise Http404
    version: ArticleVersion = fetch_or_404(
        lambda: selectors.version_get(user=current_user(request), article=article, number=int(number))
    )
    return version


@editor_required
@require_POST
def article_action(request: HttpRequest, article_id: int) -> HttpResponse:
    """Every button of the article page posts here with an ``action``."""
    user = current_user(request)
    article = _article(request, article_id)
    action = request.POST.get("action", "")
    handlers: dict[str, Callable[[], str | None]] = {
        "save": lambda: _save_draft(request, user, article),
        "classify": lambda: _classify(request, user, article),
        "submit": lambda: _submit(request, user, article),
        "publish": lambda: _publish(request, user, article),
        "reject": lambda: _reject(request, user, article),
        "rollback": lambda: _rollback(request, user, article),
        "unpublish": lambda: _unpublish(user, article),
        "link_translation": lambda: _link_translation(request, user, article),
    }
    handler = handlers.get(action)
    if handler is None:
        messages.error(request, _("Unknown action."))
        return redirect(_article_url(article))
    try:
        message = handler()
    except ApplicationError as exc:
        _report(request, exc)
    else:
        if message:
            messages.success(request, message)
    target = request.POST.get("next", "")
    if target == "review":
        return redirect("knowledge:editor-review")
    return redirect(_article_url(article))


def _save_draft(request: HttpRequest, user: User, article: Article) -> str | None:
    form = VersionTextForm(request.POST)
    if not form.is_valid():
        report_form_errors(request, form)
        return None
    data = form.cleaned_data
    version = services.version_save_draft(
        actor=user,
        article=article,
        title=data["title"],
        body=data["body"],
        summary=data["summary"],
        change_note=data["change_note"],
    )
    if request.POST.get("and_submit"):
        services.version_submit(actor=user, version=version)
        return _("Version %(number)s was saved and submitted for review.") % {"number": version.number}
    return _("Draft version %(number)s was saved.") % {"number": version.number}


def _classify(request: HttpRequest, user: User, article: Article) -> str | None:
    form = ArticleClassForm(request.POST)
    if not form.is_valid():
        report_form_errors(request, form)
        return None
    data = form.cleaned_data
    services.article_update(
        actor=user,
        article=article,
        category=data["category"],
        audience=data["audience"],
        tags=form.tag_names(),
        product_models=data["product_models"],
    )
    return _("The article's classification was saved.")


def _submit(request: HttpRequest, user: User, article: Article) -> str:
    version = services.version_submit(actor=user, version=_version_from_post(request, article))
    return _("Version %(number)s was submitted for review.") % {"number": version.number}


def _publish(request: HttpRequest, user: User, article: Article) -> str | None:
    form = PublishForm(request.POST)
    if not form.is_valid():
        report_form_errors(request, form)
        return None
    effective_at = form.cleaned_data["effective_at"]
    version = services.version_publish(
        actor=user, version=_version_from_post(request, article), effective_at=effective_at
    )
    if version.effective_at and version.effective_at > timezone.now():
        return _("Version %(number)s was approved and goes live on %(date)s.") % {
            "number": version.number,
            "date": timezone.localtime(version.effective_at).strftime("%Y-%m-%d %H:%M"),
        }
    return _("Version %(number)s was published.") % {"number": version.number}


def _reject(request: HttpRequest, user: User, article: Article) -> str | None:
    form = RejectForm(request.POST)
    if not form.is_valid():
        report_form_errors(request, form)
        return None
    version = services.version_reject(
        actor=user, version=_version_from_post(request, article), note=form.cleaned_data["note"]
    )
    return _("Version %(number)s was rejected.") % {"number": version.number}


def _rollback(request: HttpRequest, user: User, article: Article) -> str:
    target = _version_from_post(request, article)
    version = services.article_rollback(actor=user, article=article, to_version=target)
    return _("Version %(old)s was restored as version %(new)s.") % {
        "old": target.number,
        "new": version.number,
    }


def _link_translation(request: HttpRequest, user: User, article: Article) -> str:
    other_id = _int_param(request.POST.get("translation"))
    other = fetch_or_404(lambda: selectors.article_get_for_user(user=user, article_id=other_id or 0))
    services.article_link_translation(actor=user, article=article, translation=other)
    return _("The articles are now linked as translations.")


def _unpublish(user: User, article: Article) -> str:
    services.article_unpublish(actor=user, article=article)
    return _("The article was taken offline.")


@editor_required
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """The Markdown preview (HTMX): the same sanitised rendering readers get."""
    body = request.POST.get("body", "")[:200_000]
    return render(request, "knowledge/editor/_preview.html", {"html": markdown_to_html(body)})


@editor_required
@require_GET
def version_detail(request: HttpRequest, article_id: int, number: int) -> HttpResponse:
    article = _article(request, article_id)
    version = fetch_or_404(
        lambda: selectors.version_get(user=current_user(request), article=article, number=number)
    )
    return _render(
        request,
        "knowledge/editor/version_detail.html",
        {"nav": NAV, "article": article, "version": version, "html": markdown_to_html(version.body)},
        tab="articles",
    )


def _int_param(value: str | None) -> int | None:
    if value and value.isdigit() and len(value) < 10:
        return int(value)
    return None


@editor_required
@require_GET
def version_compare(request: HttpRequest, article_id: int) -> HttpResponse:
    user = current_user(request)
    article = _article(request, article_id)
    versions = selectors.article_versions(user=user, article=article)
    numbers = [version.number for version in versions]
    old_number = _int_param(request.GET.get("from"))
    new_number = _int_param(request.GET.get("to"))
    if new_number is None and numbers:
        new_number = numbers[0]
    if old_number is None and new_number is not None:
        old_number = max((n for n in numbers if n < new_number), default=new_number)
    fields = []
    old = new = None
    if old_number is not None and new_number is not None:
        old = fetch_or_404(lambda: selectors.version_get(user=user, article=article, number=old_number))
        new = fetch_or_404(lambda: selectors.version_get(user=user, article=article, number=new_number))
        fields = selectors.version_diff(old, new)
    return _render(
        request,
        "knowledge/editor/diff.html",
        {"nav": NAV, "article": article, "versions": versions, "old": old, "new": new, "fields": fields},
        tab="articles",
    )


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    queue = fetch_or_404(lambda: selectors.review_queue(user=user))
    return _render(
        request,
        "knowledge/editor/review.html",
        {
            "nav": NAV,
            "queue": queue,
            "scheduled": selectors.scheduled_versions(),
            "publish_form": PublishForm(),
            "reject_form": RejectForm(),
        },
        tab="review",
    )


# --- manuals ------------------------------------------------------------------------------------


@editor_required
@require_http_methods(["GET", "POST"])
def manual_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if request.method == "POST":
        form = ManualForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                manual = services.manual_create(actor=user, **data)
            except ApplicationError as exc:
                _report(request, exc)
            else:
                messages.success(request, _("The manual was created."))
                return redirect("knowledge:editor-manual", slug=manual.slug)
        else:
            report_form_errors(request, form)
    else:
        form = ManualForm()
    manuals = selectors.manuals_with_editions(user)
    return _render(
        request,
        "knowledge/editor/manual_list.html",
        {"nav": NAV, "manuals": manuals, "form": form},
        tab="manuals",
    )


@editor_required
@require_GET
def manual_detail(request: HttpRequest, slug: str) -> HttpResponse:
    user = current_user(request)
    manual = fetch_or_404(lambda: selectors.manual_get_for_user(user=user, slug=slug))
    chapters = selectors.manual_outline(manual=manual)
    editions = selectors.editions_for_manual(manual=manual)
    return _render(
        request,
        "knowledge/editor/manual_detail.html",
        {
            "nav": NAV,
            "manual": manual,
            "chapters": chapters,
            "section_form": SectionForm(manual_locale=manual.locale),
            "edition_form": EditionForm(),
            "editions": [(edition, change_lines(edition.changes)) for edition in editions],
            "can_review": selectors.can_review(user),
        },
        tab="manuals",
    )


@editor_required
@require_POST
def manual_action(request: HttpRequest, slug: str) -> HttpResponse:
    user = current_user(request)
    manual = fetch_or_404(lambda: selectors.manual_get_for_user(user=user, slug=slug))
    action = request.POST.get("action", "")
    try:
        if action == "add":
            form = SectionForm(request.POST, manual_locale=manual.locale)
            if form.is_valid():
                parent = None
                if form.cleaned_data["parent"]:
                    parent = ManualSection.objects.filter(
                        manual=manual, pk=form.cleaned_data["parent"]
                    ).first()
                    if parent is None:
                        raise Http404
                services.manual_section_add(
                    actor=user,
                    manual=manual,
                    parent=parent,
                    title=form.cleaned_data["title"],
                    article=form.cleaned_data["article"],
                )
                messages.success(request, _("Added."))
            else:
                report_form_errors(request, form)
        elif action in ("up", "down", "remove"):
            section_id = _int_param(request.POST.get("section"))
            section = ManualSection.objects.filter(manual=manual, pk=section_id or 0).first()
            if section is None:
                raise Http404
            if action == "remove":
                services.manual_section_remove(actor=user, section=section)
                messages.success(request, _("Removed."))
            else:
                services.manual_section_move(actor=user, section=section, direction=action)
        elif action == "publish":
            edition_form = EditionForm(request.POST)
            if edition_form.is_valid():
                edition = services.manual_publish_edition(
                    actor=user, manual=manual, label=edition_form.cleaned_data["label"]
                )
                messages.success(request, _("Edition %(label)s was published.") % {"label": edition.label})
            else:
                report_form_errors(request, edition_form)
        else:
            messages.error(request, _("Unknown action."))
    except ApplicationError as exc:
        _report(request, exc)
    return redirect("knowledge:editor-manual", slug=manual.slug)


# --- edition files (staff; public manuals for everyone) -----------------------------------------


def _edition(request: HttpRequest, edition_id: int) -> ManualEdition:
    edition: ManualEdition = fetch_or_404(
        lambda: selectors.edition_get_for_user(user=request.user, edition_id=edition_id)
    )
    return edition


@require_GET
def edition_html(request: HttpRequest, edition_id: int) -> HttpResponse:
    return edition_html_response(_edition(request, edition_id), download=request.GET.get("download") == "1")


@require_GET
def edition_pdf(request: HttpRequest, edition_id: int) -> HttpResponseBase:
    try:
        return edition_pdf_response(_edition(request, edition_id))
    except NotFound as exc:
        raise Http404 from exc
