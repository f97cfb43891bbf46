from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BoardConfig(AppConfig):
    name = "fieldservice.board"
    label = "board"
    verbose_name = _("Dispatch board")
