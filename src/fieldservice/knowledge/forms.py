"""Forms parse input for the views; the services decide what is allowed."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.assets.selectors import product_models_for
from fieldservice.knowledge.choices import ArticleStatus
from fieldservice.knowledge.models import TEXT_MAX_LENGTH, TITLE_MAX_LENGTH
from fieldservice.workorders.models import FaultCategory
from fieldservice.workorders.selectors import fault_categories


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH)
    fault_category = forms.ModelChoiceField(
        label=_("Fault category"), required=False, queryset=FaultCategory.objects.none()
    )
    product_model = forms.ModelChoiceField(label=_("Product model"), required=False, queryset=None)
    symptoms = forms.CharField(
        label=_("Symptoms"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the customer or engineer sees: alarms, noises, readings."),
    )
    cause = forms.CharField(
        label=_("Cause"), required=False, max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4})
    )
    solution = forms.CharField(
        label=_("Solution"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("The steps that fix it, and the parts needed."),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fault_category"].queryset = fault_categories()
        self.fields["product_model"].queryset = product_models_for(actor)


class ArticleFilterForm(forms.Form):
    """The list filters. An invalid value is ignored rather than failing the page."""

    fault_category = forms.ModelChoiceField(
        label=_("Fault category"),
        required=False,
        queryset=FaultCategory.objects.none(),
        empty_label=_("All categories"),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *ArticleStatus.choices]
    )

    def __init__(self, *args, show_status: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fault_category"].queryset = fault_categories()
        if not show_status:
            del self.fields["status"]

    def filters(self) -> dict:
        self.is_valid()
        data = {name: self.cleaned_data.get(name) for name in self.fields if name in self.cleaned_data}
        if data.get("fault_category") is not None:
            data["fault_category"] = data["fault_category"].pk
        return {key: value for key, value in data.items() if value}
