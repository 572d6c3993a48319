from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AmiConfig(AppConfig):
    name = "ami"
    verbose_name = _("Appels à manifestation d'intérêt")

    def ready(self):
        from ami import account_security, auth_memo, page_cache

        page_cache.connect_signals()
        account_security.connect_signals()
        auth_memo.connect_signals()
