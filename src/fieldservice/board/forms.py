"""Forms of the dispatch board. They only parse input; the scheduling services validate and act."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fieldservice.accounts.models import User
from fieldservice.accounts.selectors import engineers_for, service_areas, teams_for
from fieldservice.board.selectors import BoardFilter

VIEWS = [("gantt", _("Gantt")), ("map", _("Map")), ("list", _("List"))]
# "Day" alone is also a date field elsewhere; the context makes this one "one day" (日), not "date".
SPANS = [("day", pgettext_lazy("board span", "Day")), ("week", pgettext_lazy("board span", "Week"))]


class BoardFilterForm(forms.Form):
    """The filters the three views share (GET). A tampered value falls back to its default
    rather than failing the page."""

    view = forms.ChoiceField(label=_("View"), choices=VIEWS, required=False)
    team = forms.ModelChoiceField(label=_("Team"), queryset=None, required=False, empty_label=_("All teams"))
    area = forms.ModelChoiceField(label=_("Area"), queryset=None, required=False, empty_label=_("All areas"))
    date = forms.DateField(label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    span = forms.ChoiceField(label=_("Span"), choices=SPANS, required=False)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_for(actor)
        self.fields["area"].queryset = service_areas()

    def _value(self, name, default):
        if not self.is_bound:
            return default
        if self.is_valid() or name not in self.errors:
            return self.cleaned_data.get(name) or default
        return default

    @property
    def chosen_view(self) -> str:
        return self._value("view", "gantt")

    def board(self) -> BoardFilter:
        return BoardFilter(
            day=self._value("date", timezone.localdate()),
            span=self._value("span", "day"),
            team=self._value("team", None),
            area=self._value("area", None),
        )


class SlotForm(forms.Form):
    """A proposed slot for a visit: the drag's drop or the click form (check and move share it)."""

    visit = forms.IntegerField(min_value=1)
    engineer = forms.ModelChoiceField(label=_("Engineer"), queryset=None)
    planned_start = forms.DateTimeField(
        label=pgettext_lazy("start time", "Start"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    version = forms.IntegerField(min_value=1)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=300)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        # Only engineers the actor may see; the service then checks skill, shift and overlap.
        visible = engineers_for(actor).filter(user__is_active=True).values("user_id")
        self.fields["engineer"].queryset = User.objects.filter(pk__in=visible)
