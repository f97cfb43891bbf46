"""The ledger under concurrent writers (PostgreSQL): posts of the same part in the same warehouse
at once wait for each other's row locks, so no update is lost, no balance goes below zero and
the ledger still adds up to every balance."""

import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from fieldservice.inventory.choices import MoveReason
from fieldservice.inventory.models import StockBalance, StockMove
from fieldservice.inventory.services import Line, drift, ledger, post
from tests import factories
from tests.concurrency import concurrent_rounds, run_concurrently

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]

THREADS = 8
ROUNDS = 6


def on_hand(warehouse, part) -> Decimal:
    return StockBalance.objects.get(warehouse=warehouse, part=part, lot="", grade="good").on_hand


def test_eight_writers_consuming_and_transferring_one_part_lose_nothing():
    actor = factories.system_user()
    part = factories.part()
    central = factories.warehouse()
    regional = factories.warehouse(kind="regional")
    factories.stock(central, part, 20)
    factories.stock(regional, part, 5)

    def consume(index):
        # Each round asks for more than there is in all: some consumptions must be refused.
        return post([Line(central, part, MoveReason.CONSUMPTION, quantity=Decimal(-2))], actor=actor)

    def transfer(index, source, destination):
        return post(
            [
                Line(source, part, MoveReason.TRANSFER_OUT, quantity=Decimal(-1)),
                Line(destination, part, MoveReason.TRANSFER_IN, quantity=Decimal(1)),
            ],
            actor=actor,
        )

    calls = [lambda i=i: consume(i) for i in range(4)]
    calls += [lambda i=i: transfer(i, central, regional) for i in range(2)]
    calls += [lambda i=i: transfer(i, regional, central) for i in range(2)]
    consumed = 0
    refused = 0
    with concurrent_rounds(*calls) as run_round:
        for _round in range(ROUNDS):
            outcomes = run_round()
            for index, (kind, value) in enumerate(outcomes):
                if kind == "error":
                    # A refusal for lack of stock is the one failure allowed: never a deadlock.
                    assert isinstance(value, ValidationError), value
                    assert value.error_dict["quantity"][0].code == "insufficient_stock"
                    refused += 1
                elif index < 4:
                    consumed += 2

    assert refused > 0  # 4 × 2 × 6 = 48 asked of 25
    # Every move of the central warehouse saw the balance its predecessor left: no two moves read
    # the same on-hand, which a post that did not wait for the row lock would.
    # Walked in the order they were written, each move's balance after is the one before plus
    # its quantity: no post read a balance another had already changed.
    for place in (central, regional):
        before = Decimal(0)
        for quantity, after in (
            StockMove.objects.filter(warehouse=place).order_by("pk").values_list("quantity", "on_hand_after")
        ):
            assert after == before + quantity
            before = after
    assert consumed == 25 - on_hand(central, part) - on_hand(regional, part)
    assert -sum(StockMove.objects.filter(reason=MoveReason.CONSUMPTION).values_list("quantity", flat=True)) == consumed
    assert not StockBalance.objects.filter(on_hand__lt=0).exists()
    assert drift() == []


def test_two_posts_that_together_would_go_below_zero_one_wins(monkeypatch):
    # The first post holds the row lock a while after taking it, so the second is sure to arrive
    # while it is held: it must wait, then see what the first left.
    real_lock = ledger._lock

    def slow_lock(keys):
        locked = real_lock(keys)
        time.sleep(0.3)
        return locked

    monkeypatch.setattr(ledger, "_lock", slow_lock)
    actor = factories.system_user()
    part = factories.part()
    central = factories.warehouse()
    factories.stock(central, part, 3)

    def take():
        return post([Line(central, part, MoveReason.CONSUMPTION, quantity=Decimal(-2))], actor=actor)

    began = time.perf_counter()
    outcomes = run_concurrently(take, take)
    assert time.perf_counter() - began >= 0.55, "the second post did not wait for the first's lock"

    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
    error = next(value for kind, value in outcomes if kind == "error")
    assert isinstance(error, ValidationError)
    assert error.error_dict["quantity"][0].code == "insufficient_stock"
    assert "Only 1" in error.error_dict["quantity"][0].message
    assert on_hand(central, part) == 1
    assert StockMove.objects.filter(reason=MoveReason.CONSUMPTION).count() == 1
    assert drift() == []
