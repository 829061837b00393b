"""Chat pages: the widget's script and endpoints (/chat/w/<public key>/…), the demo page, the console."""

from django.urls import path

from . import views_console, views_visitor

app_name = "chat"
urlpatterns = [
    path("widget.js", views_visitor.widget_js, name="widget-js"),
    path("demo/", views_visitor.demo, name="demo"),
    path("w/<str:public_key>/config", views_visitor.config, name="w-config"),
    path("w/<str:public_key>/start", views_visitor.start, name="w-start"),
    path("w/<str:public_key>/conversation", views_visitor.conversation, name="w-conversation"),
    path("w/<str:public_key>/messages", views_visitor.message, name="w-message"),
    path("w/<str:public_key>/person", views_visitor.person, name="w-person"),
    path("w/<str:public_key>/feedback", views_visitor.feedback, name="w-feedback"),
    path("w/<str:public_key>/contact", views_visitor.contact, name="w-contact"),
    path("w/<str:public_key>/close", views_visitor.close, name="w-close"),
    path("w/<str:public_key>/leave-message", views_visitor.leave_message, name="w-leave-message"),
    path("w/<str:public_key>/stream", views_visitor.stream, name="w-stream"),
    path("console/", views_console.console, name="console"),
    path("console/stream", views_console.console_stream, name="console-stream"),
    path("console/presence", views_console.console_presence, name="console-presence"),
    path("console/<int:conversation_id>/", views_console.console_conversation, name="console-conversation"),
    path("console/<int:conversation_id>/accept", views_console.console_accept, name="console-accept"),
    path("console/<int:conversation_id>/messages", views_console.console_message, name="console-message"),
    path("console/<int:conversation_id>/close", views_console.console_close, name="console-close"),
]
