# The same orders and world as the feedback tests.
from tests.feedback.conftest import evaluate, make_order, world  # noqa: F401
