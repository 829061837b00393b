"""Knowledge base editor pages (KB-CORE), mounted by ``knowledge/urls.py`` under ``/console/kb/``.

Names live in the ``knowledge`` namespace: ``knowledge:editor-home`` … Edition files
(``knowledge:edition-html`` / ``knowledge:edition-pdf``) are readable by staff, and by everyone
(also signed-out visitors) when the manual is public.
"""

from django.urls import path

from . import editor_views as views

urlpatterns = [
    path("", views.article_list, name="editor-home"),
    path("new/", views.article_new, name="editor-new"),
    path("preview/", views.preview, name="editor-preview"),
    path("review/", views.review_queue, name="editor-review"),
    path("articles/<int:article_id>/", views.article_detail, name="editor-article"),
    path("articles/<int:article_id>/action/", views.article_action, name="editor-article-action"),
    path("articles/<int:article_id>/diff/", views.version_compare, name="editor-diff"),
    path("articles/<int:article_id>/v/<int:number>/", views.version_detail, name="editor-version"),
    path("manuals/", views.manual_list, name="editor-manuals"),
    path("manuals/<slug:slug>/", views.manual_detail, name="editor-manual"),
    path("manuals/<slug:slug>/action/", views.manual_action, name="editor-manual-action"),
    path("editions/<int:edition_id>/html/", views.edition_html, name="edition-html"),
    path("editions/<int:edition_id>/pdf/", views.edition_pdf, name="edition-pdf"),
]
