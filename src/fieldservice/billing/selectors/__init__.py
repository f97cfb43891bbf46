"""Billing selectors, one module per topic; the names are re-exported so callers write `selectors.x`."""

from fieldservice.billing.selectors.charges import *  # noqa: F403
from fieldservice.billing.selectors.fees import *  # noqa: F403
from fieldservice.billing.selectors.margins import *  # noqa: F403
from fieldservice.billing.selectors.quotations import *  # noqa: F403
from fieldservice.billing.selectors.settlement import *  # noqa: F403
