from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from fieldservice.accounts.permissions import Capability, can, works_only_in_field
from fieldservice.assets.selectors import equipment_for
from fieldservice.customers.selectors import customers_for


@login_required
def home(request):
    """The start page: what this user works on, by role."""
    user = request.user
    if works_only_in_field(user):
        # An engineer's home is his phone work list, whatever device he signed in on.
        return redirect("field:today")
    cards = []
    if can(user, Capability.VIEW_CUSTOMERS):
        cards.append(("customers", customers_for(user).count()))
    if can(user, Capability.VIEW_ASSETS):
        equipment = equipment_for(user)
        cards.append(("equipment", equipment.count()))
    return render(request, "site/home.html", {"cards": dict(cards)})


def error_403(request, exception=None):
    return render(request, "403.html", status=403)


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_500(request):
    # No context processors that touch the database: the error may be the database.
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(loader.get_template("500.html").render({}))
