"""The simulated machines: deterministic by seed, failing at the time they say, healthy ones never."""

import datetime as dt

from fieldservice.iot.simulation import LiveMachine, drift_history, expected_failures, fleet

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_a_drift_history_is_the_same_for_the_same_seed_and_ends_at_its_known_failure():
    first = drift_history(7, start=START, days=60, fails=True)
    again = drift_history(7, start=START, days=60, fails=True)
    other = drift_history(8, start=START, days=60, fails=True)

    assert first.readings == again.readings and first.failure_at == again.failure_at
    assert first.readings != other.readings
    drift = first.drift
    assert START < drift.onset < first.failure_at <= START + dt.timedelta(days=60)
    # Readings stop at the failure, where the noiseless value reaches the threshold.
    assert first.readings[-1][0] < first.failure_at <= first.readings[-1][0] + dt.timedelta(hours=1)
    assert abs(drift.level(first.failure_at) - drift.threshold) < 1e-9
    early = [value for at, value in first.readings if at < drift.onset]
    late = [value for at, value in first.readings[-24:]]
    assert sum(late) / len(late) > sum(early) / len(early) + 0.5 * (drift.threshold - drift.baseline)


def test_a_healthy_machine_never_drifts_towards_its_threshold():
    history = drift_history(3, start=START, days=30, fails=False)

    assert history.failure_at is None
    assert len(history.readings) == 30 * 24
    values = [value for _at, value in history.readings]
    assert max(values) < history.drift.threshold


def test_live_machines_raise_alarms_near_the_threshold_and_report_their_failure_time():
    machines = fleet([f"SN{n}" for n in range(20)], seed=5, started=START, speed=1000, days=10, fail_share=1.0)
    plan = expected_failures(machines)
    assert all(row["failure_at"] for row in plan)

    machine: LiveMachine = machines[0]
    readings, alarms = machine.tick(machine.failure_at)
    assert {r["metric"] for r in readings} == {"vibration", "temperature", "wear"}
    assert any(a["code"].endswith("_HIGH") and a["state"] == "raised" for a in alarms)
