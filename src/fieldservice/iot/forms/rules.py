"""Forms of the administrator's alarm codes and threshold rules, and of the alarm list's filters.
The forms only shape the input; the rules (a value for the kinds that compare, a window of at
least a minute, a metric name as machines send it) are the services'."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.assets.models import ProductModel
from fieldservice.customers.models import Customer
from fieldservice.iot.choices import RuleKind, Severity
from fieldservice.workorders.choices import Priority
from fieldservice.workorders.models import FaultCategory


class AlarmMappingForm(forms.Form):
    code = forms.CharField(label=_("Alarm code"), max_length=40)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    fault_category = forms.ModelChoiceField(
        label=_("Fault category"), queryset=FaultCategory.objects.order_by("code"), required=False
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.HIGH)
    opens_order = forms.BooleanField(label=_("Opens a work order"), required=False, initial=True)
    notify_customer = forms.BooleanField(label=_("Tell the customer"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class ThresholdRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    metric = forms.CharField(
        label=_("Metric"), max_length=40, help_text=_("As the machine sends it, e.g. temperature or operating_hours.")
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=RuleKind.choices)
    value = forms.FloatField(
        label=_("Value"),
        required=False,
        help_text=_("Above/below: the limit. Rate: the rise an hour. Not used for a plan's meter."),
    )
    window_minutes = forms.IntegerField(label=_("For (minutes)"), initial=10)
    product_model = forms.ModelChoiceField(
        label=_("Product model"),
        queryset=ProductModel.objects.order_by("code"),
        required=False,
        help_text=_("Empty: every model."),
    )
    fault_category = forms.ModelChoiceField(
        label=_("Fault category"), queryset=FaultCategory.objects.order_by("code"), required=False
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL)
    notify_customer = forms.BooleanField(label=_("Tell the customer"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class AlarmFilterForm(forms.Form):
    open_only = forms.BooleanField(label=_("Open only"), required=False)
    severity = forms.ChoiceField(
        label=_("Severity"), choices=[("", _("Any severity")), *Severity.choices], required=False
    )
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none(), required=False)

    def __init__(self, *args, customers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if customers is None:
            del self.fields["customer"]  # a customer sees its own machines only
        else:
            self.fields["customer"].queryset = customers
