"""How `post` writes: few statements on the hot path (a consumption of stock that is there), every
ledger row with its id however many lines a post has, a level watched only where one is set."""

from decimal import Decimal

import pytest

from fieldservice.inventory.choices import MoveReason
from fieldservice.inventory.models import Part, StockBalance, StockLevel, StockMove
from fieldservice.inventory.services import Line, drift, post
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_consumption_of_stock_that_is_there_is_three_statements(django_assert_max_num_queries):
    actor = factories.system_user()
    part = factories.part()
    central = factories.warehouse()
    factories.stock(central, part, 5)
    # The lock (with the part's cost and whether a level watches), the update, the ledger row;
    # and the savepoint's two statements inside the test's transaction.
    with django_assert_max_num_queries(5):
        moves = post([Line(central, part, MoveReason.CONSUMPTION, quantity=Decimal(-2))], actor=actor)
    assert moves[0].pk == StockMove.objects.get(reason=MoveReason.CONSUMPTION).pk
    assert moves[0].unit_cost == part.average_cost and moves[0].on_hand_after == 3


def test_a_post_of_many_lines_writes_every_row_with_its_id():
    actor = factories.system_user()
    central = factories.warehouse()
    parts = Part.objects.bulk_create(Part(part_number=f"BULK-{n:05d}", name=f"Bulk {n}") for n in range(1200))
    lines = [Line(central, part, MoveReason.RECEIPT, quantity=Decimal(n % 7 + 1)) for n, part in enumerate(parts)]

    moves = post(lines, actor=actor)

    assert len({move.pk for move in moves}) == 1200
    stored = dict(StockMove.objects.filter(pk__in=[m.pk for m in moves]).values_list("pk", "part_id"))
    assert all(stored[move.pk] == move.part_id for move in moves)
    assert StockBalance.objects.filter(warehouse=central).count() == 1200
    assert drift() == []


def test_a_level_is_still_watched_and_the_keeper_told_once(django_capture_on_commit_callbacks):
    from fieldservice.core.models import OutboxMessage

    actor = factories.system_user()
    part = factories.part()
    central = factories.warehouse()
    factories.stock(central, part, 5)
    StockLevel.objects.create(warehouse=central, part=part, minimum=Decimal(3), maximum=Decimal(10))

    post([Line(central, part, MoveReason.CONSUMPTION, quantity=Decimal(-1))], actor=actor)
    assert StockLevel.objects.get().alerted_at is None  # 4 is not below 3
    assert not OutboxMessage.objects.filter(topic="stock.below_minimum").exists()
    post([Line(central, part, MoveReason.CONSUMPTION, quantity=Decimal(-2))], actor=actor)
    post([Line(central, part, MoveReason.CONSUMPTION, quantity=Decimal(-1))], actor=actor)

    assert StockLevel.objects.get().alerted_at is not None
    assert OutboxMessage.objects.filter(topic="stock.below_minimum").count() == 1
