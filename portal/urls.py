from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import certificates, customer, guide_views, health, metrics
from portal.audit import views as audit_views
from portal.autoconfig import views as autoconfig_views
from portal.campaigns import views as campaign_views
from portal.evidence import views as evidence_views
from portal.invitations import views as invitation_views
from portal.logins import passwords, two_factor
from portal.logins.lockout import LoginForm
from portal.staff import customers, domains, endpoints, findings, imports, mailboxes

urlpatterns = [
    path("", customer.home, name="home"),
    path("c/<slug:slug>/", customer.customer_home, name="customer_home"),
    path("c/<slug:slug>/m/<uuid:code>/", customer.customer_mailbox, name="customer_mailbox"),
    path("c/<slug:slug>/m/<uuid:code>/guide/", guide_views.guide_choose, name="guide_choose"),
    path(
        "c/<slug:slug>/m/<uuid:code>/guide/<slug:client>/",
        guide_views.customer_guide,
        name="customer_guide",
    ),
    path(
        "c/<slug:slug>/m/<uuid:code>/confirm/",
        guide_views.customer_confirm,
        name="customer_confirm",
    ),
    path("c/<slug:slug>/m/<uuid:code>/sheet/", guide_views.customer_sheet, name="customer_sheet"),
    path("l/<str:token>/", campaign_views.campaign_link, name="campaign_link"),
    path("g/<str:token>/", campaign_views.guide_link, name="guide_link"),
    path(
        "invite/<uuid:code>/<str:token>/",
        invitation_views.invitation_accept,
        name="invitation_accept",
    ),
    path("mail/config-v1.1.xml", autoconfig_views.thunderbird, name="autoconfig"),
    path(
        ".well-known/autoconfig/mail/config-v1.1.xml",
        autoconfig_views.thunderbird,
        name="autoconfig_well_known",
    ),
    path("autodiscover/autodiscover.xml", autoconfig_views.autodiscover, name="autodiscover"),
    path("Autodiscover/Autodiscover.xml", autoconfig_views.autodiscover, name="autodiscover_cap"),
    path("tls/ask", certificates.tls_ask, name="tls_ask"),
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    path(
        "c/<slug:slug>/m/<uuid:code>/profile.mobileconfig",
        autoconfig_views.customer_profile,
        name="customer_profile",
    ),
    path("ingest/maillog/", evidence_views.maillog_ingest, name="maillog_ingest"),
    path("staff/", mailboxes.staff_home, name="staff_home"),
    path("staff/campaigns/", campaign_views.campaign_list, name="campaign_list"),
    path("staff/campaigns/new/", campaign_views.campaign_edit, name="campaign_new"),
    path("staff/campaigns/<uuid:code>/", campaign_views.campaign_detail, name="campaign_detail"),
    path("staff/campaigns/<uuid:code>/edit/", campaign_views.campaign_edit, name="campaign_edit"),
    path(
        "staff/campaigns/<uuid:code>/export.csv",
        campaign_views.campaign_export,
        name="campaign_export",
    ),
    path(
        "staff/campaigns/<uuid:code>/test-message/",
        campaign_views.campaign_test_message,
        name="campaign_test_message",
    ),
    path(
        "staff/campaigns/<uuid:code>/<slug:action>/",
        campaign_views.campaign_action,
        name="campaign_action",
    ),
    path(
        "staff/mailboxes/<uuid:code>/guide/<slug:client>/",
        guide_views.staff_guide,
        name="staff_guide",
    ),
    path(
        "staff/mailboxes/<uuid:code>/guide/<slug:client>/send/",
        guide_views.staff_guide_send,
        name="staff_guide_send",
    ),
    path("staff/mailboxes/<uuid:code>/sheet/", guide_views.staff_sheet, name="staff_sheet"),
    path("staff/mailboxes/<uuid:code>/", mailboxes.staff_mailbox, name="staff_mailbox"),
    path("staff/mailboxes/<uuid:code>/edit/", mailboxes.staff_sheet_edit, name="staff_sheet_edit"),
    path("staff/customers/new/", customers.customer_edit, name="customer_new"),
    path("staff/customers/<slug:slug>/", customers.staff_customer, name="staff_customer"),
    path("staff/customers/<slug:slug>/edit/", customers.customer_edit, name="customer_edit"),
    path(
        "staff/customers/<slug:slug>/domains/new/",
        customers.mail_domain_edit,
        name="mail_domain_new",
    ),
    path(
        "staff/customers/<slug:slug>/domains/<str:domain>/",
        customers.mail_domain_edit,
        name="mail_domain_edit",
    ),
    path(
        "staff/customers/<slug:slug>/domains/<str:domain>/delete/",
        customers.mail_domain_delete,
        name="mail_domain_delete",
    ),
    path("staff/customers/<slug:slug>/invite/", customers.invitation_new, name="invitation_new"),
    path(
        "staff/customers/<slug:slug>/members/<str:username>/remove/",
        customers.member_remove,
        name="member_remove",
    ),
    path(
        "staff/customers/<slug:slug>/invitations/<uuid:code>/resend/",
        customers.invitation_resend,
        name="invitation_resend",
    ),
    path("staff/servers/", mailboxes.staff_servers, name="staff_servers"),
    path("staff/audit/", audit_views.audit_list, name="audit_list"),
    path("staff/audit/export.csv", audit_views.audit_export, name="audit_export"),
    path("staff/imports/", imports.import_list, name="import_list"),
    path("staff/imports/<uuid:code>/", imports.import_detail, name="import_detail"),
    path("staff/imports/<uuid:code>/apply/", imports.import_apply, name="import_apply"),
    path("staff/imports/<uuid:code>/discard/", imports.import_discard, name="import_discard"),
    path(
        "staff/imports/template/<slug:kind>.csv",
        imports.import_template_download,
        name="import_template",
    ),
    path("staff/findings/", findings.findings_dashboard, name="findings_dashboard"),
    path("staff/forecast/", evidence_views.forecast, name="forecast"),
    path("staff/findings/export.csv", findings.findings_export, name="findings_export"),
    path("staff/domains/", domains.domain_list, name="domain_list"),
    path("staff/domains/check/", domains.domains_check_now, name="domains_check_now"),
    path("staff/endpoints/", endpoints.endpoint_list, name="endpoint_list"),
    path("staff/endpoints/sweep/", endpoints.sweep_now, name="sweep_now"),
    path("staff/endpoints/<uuid:code>/", endpoints.endpoint_detail, name="endpoint_detail"),
    path(
        "staff/endpoints/<uuid:code>/check/",
        endpoints.endpoint_check_now,
        name="endpoint_check_now",
    ),
    path("accounts/two-factor/", two_factor.two_factor, name="two_factor"),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=passwords.ThrottledPasswordResetForm),
        name="password_reset",
    ),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
