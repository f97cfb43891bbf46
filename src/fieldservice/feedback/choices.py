from django.utils.translation import gettext_lazy as _

# Labels of the actions this app records in the event log and the service log
# (registered with core.events in apps.py).
ACTION_LABELS = {
    "evaluated": _("customer rated the visit"),
    "callback_recorded": _("call back recorded"),
}
