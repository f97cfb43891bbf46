"""Forms of the pool pages. They only parse input; the services validate and act."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.selectors import providers_for
from fieldservice.pool.services import MAX_MINUTES, NOTE_MAX_LENGTH


class PublishForm(forms.Form):
    minutes = forms.IntegerField(label=_("Minutes in the pool"), min_value=1, max_value=MAX_MINUTES)
    requires_approval = forms.BooleanField(label=_("Grabs need my approval"), required=False)
    provider = forms.ModelChoiceField(
        label=_("Only for the engineers of"),
        queryset=None,
        required=False,
        empty_label=_("Our engineers and the customer's provider"),
    )
    note = forms.CharField(label=_("Note for the engineers"), required=False, max_length=NOTE_MAX_LENGTH)

    def __init__(self, *args, actor, **kwargs):
        kwargs.setdefault("initial", {"minutes": settings.FSM_POOL_MINUTES})
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers_for(actor).filter(is_active=True)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)
