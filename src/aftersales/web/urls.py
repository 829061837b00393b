from django.urls import path

from .views import (
    account,
    auth,
    call,
    console,
    console_actions,
    customer_edit,
    customer_list,
    customers,
    files,
    homes,
    macros,
    notifications,
    portal,
    queue,
    reports,
    reports_first_response,
    settings,
)

app_name = "web"
urlpatterns = [
    path("", console.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("login/code/", auth.login_code, name="login-code"),
    path("password-reset/", auth.PasswordResetView.as_view(), name="password-reset"),
    path("password-reset/sent/", auth.PasswordResetDoneView.as_view(), name="password-reset-sent"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("password-reset/done/", auth.PasswordResetCompleteView.as_view(), name="password-reset-complete"),
    path("account/two-step/", account.two_step, name="account-two-step"),
    # Agent console
    path("console/", homes.landing, name="console"),
    path("console/home/agent/", homes.agent_home, name="console-home-agent"),
    path("console/home/supervisor/", homes.supervisor_home, name="console-home-supervisor"),
    path("console/home/technician/", homes.technician_home, name="console-home-technician"),
    path("console/home/parts/", homes.parts_home, name="console-home-parts"),
    path("console/queue/<slug:name>/", queue.queue, name="console-queue"),
    path("console/queue/<slug:name>/export/", queue.export, name="console-queue-export"),
    path("console/bulk/", queue.bulk, name="console-bulk"),
    path("console/views/", queue.saved_view_create, name="console-view-save"),
    path("console/views/delete/", queue.saved_view_remove, name="console-view-delete"),
    path("console/call/", call.log_call, name="console-call"),
    path("console/reports/sla/", reports.sla_compliance, name="console-report-sla"),
    path("console/settings/", settings.index, name="console-settings"),
    path("console/settings/sla/", settings.sla_policies, name="console-settings-sla"),
    path("console/settings/sla/new/", settings.sla_policy_edit, name="console-settings-sla-new"),
    path(
        "console/settings/sla/<int:policy_id>/", settings.sla_policy_edit, name="console-settings-sla-policy"
    ),
    path("console/settings/calendars/", settings.calendars, name="console-settings-calendars"),
    path(
        "console/settings/calendars/<int:calendar_id>/",
        settings.calendar_detail,
        name="console-settings-calendar",
    ),
    path("console/settings/teams/", settings.teams, name="console-settings-teams"),
    path("console/settings/teams/<int:team_id>/", settings.team_detail, name="console-settings-team"),
    path(
        "console/reports/first-response/",
        reports_first_response.first_response,
        name="console-report-first-response",
    ),
    path("console/customers/", customer_list.customer_list, name="console-customers"),
    path("console/customers/<str:code>/", customers.customer_detail, name="console-customer"),
    path("console/customers/<str:code>/edit/", customer_edit.customer_edit, name="console-customer-edit"),
    path(
        "console/customers/<str:code>/contacts/", customer_edit.contact_save, name="console-customer-contact"
    ),
    path(
        "console/customers/<str:code>/addresses/", customer_edit.address_save, name="console-customer-address"
    ),
    path(
        "console/customers/<str:code>/products/", customer_edit.product_save, name="console-customer-product"
    ),
    path("console/macros/", macros.macro_list, name="console-macros"),
    path("console/macros/new/", macros.macro_new, name="console-macro-new"),
    path("console/macros/<int:macro_id>/", macros.macro_edit, name="console-macro"),
    path("console/macros/<int:macro_id>/archive/", macros.macro_archive_view, name="console-macro-archive"),
    path(
        "console/customers/<str:code>/merge/", customers.customer_merge_confirm, name="console-customer-merge"
    ),
    path("console/notifications/", notifications.notification_list, name="console-notifications"),
    path("console/call/lookup/", call.lookup, name="console-call-lookup"),
    path("console/tickets/<str:number>/", console.ticket_detail, name="console-ticket"),
    path("console/tickets/<str:number>/reply/", console_actions.reply, name="console-reply"),
    path("console/tickets/<str:number>/transition/", console_actions.transition, name="console-transition"),
    path("console/tickets/<str:number>/edit/", console_actions.edit, name="console-edit"),
    path("console/tickets/<str:number>/attachments/", console_actions.upload, name="console-upload"),
    path("console/tickets/<str:number>/merge/", console_actions.merge, name="console-merge"),
    path("console/tickets/<str:number>/link/", console_actions.link, name="console-link"),
    path("console/tickets/<str:number>/macro/", macros.ticket_macro, name="console-ticket-macro"),
    # Customer portal
    path("portal/", portal.ticket_list, name="portal"),
    path("portal/new/", portal.ticket_new, name="portal-new"),
    path("portal/tickets/<str:number>/", portal.ticket_detail, name="portal-ticket"),
    path("portal/tickets/<str:number>/reply/", portal.reply, name="portal-reply"),
    path("portal/tickets/<str:number>/transition/", portal.transition, name="portal-transition"),
    # Files, for both
    path("attachments/<int:attachment_id>/", files.attachment_download, name="attachment"),
]
