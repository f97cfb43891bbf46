from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.planning.services import MAX_BUDGET, MIN_BUDGET


class StartRunForm(forms.Form):
    team = forms.ModelChoiceField(queryset=None, label=_("Team"), required=False)
    area = forms.ModelChoiceField(queryset=None, label=_("Service area"), required=False)
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    time_budget_seconds = forms.IntegerField(
        label=_("Time budget (seconds)"), min_value=MIN_BUDGET, max_value=MAX_BUDGET, initial=10
    )

    def __init__(self, *args, teams, areas, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["area"].queryset = areas
        self.fields["day"].initial = timezone.localdate()
