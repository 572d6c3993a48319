from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from ami import accounts, legal_views, otp_views, proconnect, ratelimits, views
from ami.forms import LoginForm, NewPasswordForm, ResetForm

handler403 = "ami.views.permission_denied"
handler404 = "ami.views.page_not_found"
handler500 = "ami.views.server_error"

account_patterns = [
    path("inscription/", accounts.signup, name="signup"),
    path("verification/<uidb64>/<token>/", accounts.verify_email, name="verify_email"),
    path(
        "connexion/",
        proconnect.LoginView.as_view(authentication_form=LoginForm),
        name="login",
    ),
    path("deconnexion/", proconnect.LogoutView.as_view(), name="logout"),
    path("double-authentification/", otp_views.otp_verify, name="otp_verify"),
    path("double-authentification/activer/", otp_views.otp_setup, name="otp_setup"),
    path("double-authentification/secours/", otp_views.otp_recovery, name="otp_recovery"),
    path("double-authentification/codes-de-secours/", otp_views.otp_recovery_codes, name="otp_recovery_codes"),
    path("proconnect/", include("mozilla_django_oidc.urls")),
    path(
        "mot-de-passe/",
        ratelimits.per_ip("password-reset", ratelimits.PASSWORD_RESET)(
            auth_views.PasswordResetView.as_view(
                form_class=ResetForm,
                email_template_name="registration/password_reset_email.txt",
                subject_template_name="registration/password_reset_subject.txt",
            )
        ),
        name="password_reset",
    ),
    path("mot-de-passe/envoye/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "mot-de-passe/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(form_class=NewPasswordForm),
        name="password_reset_confirm",
    ),
    path("mot-de-passe/termine/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("mes-donnees/", legal_views.my_data, name="my_data"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("appels/<slug:slug>/", views.call_detail, name="call_detail"),
    path("appels/<slug:slug>/laureats/", views.laureates, name="laureates"),
    path("appels/<slug:slug>/laureats.csv", views.laureates_csv, name="laureates_csv"),
    path("appels/<slug:slug>/laureats.json", views.laureates_json, name="laureates_json"),
    path("healthz", views.healthz, name="healthz"),
    path("donnees-personnelles/", legal_views.privacy, name="privacy"),
    path("accessibilite/", legal_views.accessibility, name="accessibility"),
    path("compte/", include(account_patterns)),
    path("", include("applications.urls")),
    path("equipe/", include("ami.staff_urls")),
    path("equipe/", include("jury.urls_staff")),
    path("equipe/", include("jury.urls_deliberation")),
    path("equipe/", include("jury.urls_exports")),
    path("equipe/", include("jury.urls_announce")),
    path("equipe/", include("jury.urls_report")),
    path("", include("jury.urls_sheets")),
    path("jury/", include("jury.urls_reviewer")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
