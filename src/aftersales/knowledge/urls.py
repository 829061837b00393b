"""Knowledge base pages: the public help centre, the answer bot, suggestions, reports and the editor.

Help-centre URLs carry their language (``/help/zh-hans/…``, ``/help/en/…``) so a link shows the same
page to everyone; the language switch moves to the same page in the other language (see
:class:`HelpLocaleConverter`).
"""

from django.urls import include, path, register_converter
from django.utils.translation import get_language

from . import bot_views, report_views, suggest_views, views
from .bot import normalize_locale


class PathLocale(str):
    """A language that came from the URL being resolved (not one a template asked for)."""

    __slots__ = ()


class HelpLocaleConverter:
    """``zh-hans`` or ``en``.

    Django's ``set_language`` view re-reverses the current URL under the new language
    (``translate_url``). A locale resolved from the path is re-reversed as the now active language,
    so switching the language on ``/help/en/a/x/`` lands on ``/help/zh-hans/a/x/``; a locale a
    template passes explicitly (a link to a translation) is kept as given.
    """

    regex = "zh-hans|en"

    def to_python(self, value: str) -> str:
        return PathLocale(value)

    def to_url(self, value: str) -> str:
        if isinstance(value, PathLocale):
            return normalize_locale(get_language())
        return normalize_locale(value)


register_converter(HelpLocaleConverter, "kblocale")

app_name = "knowledge"
urlpatterns: list = [
    # Public help centre
    path("help/", views.help_root, name="help-root"),
    path("help/<kblocale:locale>/", views.help_home, name="help-home"),
    path("help/<kblocale:locale>/search/", views.help_search, name="help-search"),
    path("help/<kblocale:locale>/c/<slug:slug>/", views.help_category, name="help-category"),
    path("help/<kblocale:locale>/a/<slug:key>/", views.help_article, name="help-article"),
    path("help/<kblocale:locale>/a/<slug:key>/feedback/", views.help_feedback, name="help-feedback"),
    path("help/<kblocale:locale>/manual/", views.help_manuals, name="help-manuals"),
    path("help/<kblocale:locale>/manual/<slug:slug>/", views.help_manual, name="help-manual"),
    # The answer bot (help centre and portal)
    path("help/<kblocale:locale>/ask/", bot_views.bot_page, name="bot-page"),
    path("help/bot/ask/", bot_views.bot_ask_view, name="bot-ask"),
    path("help/bot/resolve/", bot_views.bot_resolve_view, name="bot-resolve"),
    path("help/bot/hand-over/", bot_views.bot_hand_over_view, name="bot-hand-over"),
    path("help/bot/restart/", bot_views.bot_restart_view, name="bot-restart"),
    # Suggested answers while a ticket is written
    path("portal/kb/suggest/", suggest_views.portal_suggest, name="portal-suggest"),
    path("console/kb/suggest/<str:number>/", suggest_views.console_suggest, name="console-suggest"),
    path("console/kb/suggest/<str:number>/use/", suggest_views.console_use, name="console-suggest-use"),
    # Reports
    path("console/kb/reports/", report_views.reports_home, name="reports"),
    path("console/kb/reports/top-problems/", report_views.top_problems_report, name="report-top"),
    path("console/kb/reports/missing-articles/", report_views.missing_articles_report, name="report-missing"),
    path("console/kb/reports/feedback/", report_views.feedback_report, name="report-feedback"),
    path("console/kb/reports/bot/", report_views.bot_report, name="report-bot"),
    # The editor (KB-CORE)
    path("console/kb/", include("aftersales.knowledge.editor_urls")),
]
