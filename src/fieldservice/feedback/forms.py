"""Forms parse input for the views; the services decide what is allowed."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.selectors import engineers_for
from fieldservice.customers.selectors import customers_for
from fieldservice.feedback.models import CALLBACK_RESULT_MAX_LENGTH, COMMENT_MAX_LENGTH, MAX_SCORE, MIN_SCORE

SCORE_CHOICES = [(value, f"{value} ★") for value in range(MAX_SCORE, MIN_SCORE - 1, -1)]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _score_field(label):
    return forms.TypedChoiceField(label=label, choices=SCORE_CHOICES, coerce=int, widget=forms.RadioSelect)


class EvaluationForm(forms.Form):
    """The customer's rating on the follow page: 5 is best."""

    overall = _score_field(_("Overall, how satisfied are you?"))
    timeliness = _score_field(_("Did we come and finish on time?"))
    attitude = _score_field(_("Was the engineer friendly and professional?"))
    quality = _score_field(_("Is the machine working well again?"))
    comment = forms.CharField(
        label=_("Anything you want to tell us?"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CallbackForm(forms.Form):
    result = forms.CharField(
        label=_("Result of the call"),
        max_length=CALLBACK_RESULT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EvaluationFilterForm(forms.Form):
    """The list filters. An invalid value is ignored rather than failing the page."""

    customer = forms.ModelChoiceField(
        label=_("Customer"), required=False, queryset=customers_for(None), empty_label=_("All customers")
    )
    engineer = forms.TypedChoiceField(label=_("Engineer"), required=False, coerce=int, empty_value=None)
    max_overall = forms.TypedChoiceField(
        label=_("Overall at most"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any score")), *SCORE_CHOICES[1:]],
    )
    needs_callback = forms.TypedChoiceField(
        label=_("Call back"),
        required=False,
        coerce=lambda value: value == "yes",
        empty_value=None,
        choices=[("", _("All")), ("yes", _("Needed")), ("no", _("Not needed"))],
    )
    submitted_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    submitted_to = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers_for(actor)
        self.fields["engineer"].choices = [("", _("All engineers"))] + [
            (profile.user_id, str(profile.user)) for profile in engineers_for(actor).order_by("user__username")
        ]

    def filters(self) -> dict:
        self.is_valid()
        data = {name: self.cleaned_data.get(name) for name in self.fields if name in self.cleaned_data}
        if data.get("customer") is not None:
            data["customer"] = data["customer"].pk
        return data
