"""Forms of the dispatch rule pages. They parse input; `rules.services` validates and saves."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.choices import OrganisationKind, Role
from fieldservice.accounts.models import Organisation, ServiceArea, ServiceTeam, User
from fieldservice.assets.models import ProductModel
from fieldservice.customers.models import Site
from fieldservice.dispatch.assignments.forms import EngineerChoiceField
from fieldservice.dispatch.choices import RuleAction, RuleStrategy, RuleTarget
from fieldservice.dispatch.rules.conditions import CHOICES, CONDITION_FIELDS
from fieldservice.dispatch.rules.engine import DEFAULT_WEIGHTS, FACTORS, factor_labels
from fieldservice.workorders.models import FaultCategory


def _distinct(queryset, field):
    return [(v, v) for v in queryset.exclude(**{field: ""}).order_by(field).values_list(field, flat=True).distinct()]


def condition_choices(name: str) -> list[tuple]:
    kind = CONDITION_FIELDS[name][1]
    if kind == "choice":
        return list(CHOICES[name].choices)
    if name == "fault_category":
        return [(str(c.pk), str(c)) for c in FaultCategory.objects.select_related("parent").order_by("code")]
    if name == "product_model":
        return [(str(m.pk), str(m)) for m in ProductModel.objects.order_by("code")]
    if name == "area":
        return [(str(a.pk), a.name) for a in ServiceArea.objects.order_by("name")]
    if name == "product_line":
        return _distinct(ProductModel.objects, "product_line")
    return _distinct(Site.objects, name)


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    action = forms.ChoiceField(label=_("Action"), choices=RuleAction.choices)
    target_kind = forms.ChoiceField(label=_("Dispatch to"), choices=RuleTarget.choices, initial=RuleTarget.ANYONE)
    target_engineer = EngineerChoiceField(label=_("Engineer"), queryset=User.objects.none(), required=False)
    target_team = forms.ModelChoiceField(label=_("Team"), queryset=ServiceTeam.objects.none(), required=False)
    target_provider = forms.ModelChoiceField(
        label=_("Service provider"), queryset=Organisation.objects.none(), required=False
    )
    strategy = forms.ChoiceField(label=_("Strategy"), choices=RuleStrategy.choices, initial=RuleStrategy.BEST_MATCH)
    pool_minutes = forms.IntegerField(label=_("Minutes in the pool"), required=False, min_value=1)
    pool_requires_approval = forms.BooleanField(label=_("Grabs need approval"), required=False)

    def __init__(self, *args, rule=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target_engineer"].queryset = (
            User.objects.filter(
                is_active=True,
                roles__role=Role.ENGINEER,
                organisation__kind__in=[OrganisationKind.OWN, OrganisationKind.PROVIDER],
            )
            .select_related("organisation")
            .distinct()
            .order_by("organisation__kind", "display_name", "username")
        )
        self.fields["target_team"].queryset = ServiceTeam.objects.order_by("name")
        self.fields["target_provider"].queryset = Organisation.objects.filter(
            Q(kind=OrganisationKind.PROVIDER, is_active=True)
        ).order_by("name")
        for name, (label, _kind) in CONDITION_FIELDS.items():
            self.fields[f"cond_{name}"] = forms.MultipleChoiceField(
                label=label,
                choices=condition_choices(name),
                required=False,
                widget=forms.SelectMultiple(attrs={"size": 4}),
                help_text=_("None selected: any."),
            )
        labels = factor_labels()
        for factor in FACTORS:
            self.fields[f"weight_{factor}"] = forms.FloatField(
                label=labels[factor], min_value=0, max_value=100, initial=DEFAULT_WEIGHTS[factor]
            )
        if rule is not None and not self.is_bound:
            self.initial.update(
                {
                    "name": rule.name,
                    "is_active": rule.is_active,
                    "action": rule.action,
                    "target_kind": rule.target_kind,
                    "target_engineer": rule.target_engineer_id,
                    "target_team": rule.target_team_id,
                    "target_provider": rule.target_provider_id,
                    "strategy": rule.strategy,
                    "pool_minutes": rule.pool_minutes,
                    "pool_requires_approval": rule.pool_requires_approval,
                    **{f"cond_{k}": [str(v) for v in vals] for k, vals in (rule.conditions or {}).items()},
                    **{f"weight_{k}": v for k, v in {**DEFAULT_WEIGHTS, **(rule.weights or {})}.items()},
                }
            )

    def condition_fields(self):
        return [self[f"cond_{name}"] for name in CONDITION_FIELDS]

    def weight_fields(self):
        return [self[f"weight_{factor}"] for factor in FACTORS]

    def rule_fields(self):
        return [self[name] for name in ("name", "is_active", "action", "target_kind", "target_engineer",
                                        "target_team", "target_provider", "strategy", "pool_minutes",
                                        "pool_requires_approval")]  # fmt: skip

    def service_fields(self) -> dict:
        data = self.cleaned_data
        conditions = {}
        for name in CONDITION_FIELDS:
            values = data.get(f"cond_{name}") or []
            if values:
                conditions[name] = [int(v) for v in values] if CONDITION_FIELDS[name][1] == "id" else list(values)
        weights = {}
        for factor in FACTORS:
            value = data.get(f"weight_{factor}")
            weights[factor] = int(value) if value is not None and float(value).is_integer() else value
        return {
            **{
                name: data.get(name)
                for name in (
                    "name",
                    "action",
                    "target_kind",
                    "target_engineer",
                    "target_team",
                    "target_provider",
                    "strategy",
                    "pool_minutes",
                )
            },  # fmt: skip
            "is_active": bool(data.get("is_active")),
            "pool_requires_approval": bool(data.get("pool_requires_approval")),
            "conditions": conditions,
            "weights": weights,
        }

    @staticmethod
    def aliases() -> dict:
        return {
            **{f"conditions.{name}": f"cond_{name}" for name in CONDITION_FIELDS},
            **{f"weights.{factor}": f"weight_{factor}" for factor in FACTORS},
        }


class TesterForm(forms.Form):
    order = forms.CharField(label=_("Work order number"), max_length=20)
