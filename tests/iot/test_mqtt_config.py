"""The MQTT door's settings: the broker URL and the topics (no broker needed)."""

import pytest

from fieldservice.iot.mqtt import Broker, device_topic, parse_url, prefix_in, subscription


@pytest.mark.parametrize(
    ("url", "broker"),
    [
        ("mqtt://127.0.0.1", Broker("127.0.0.1", 1883)),
        ("mqtt://ingest:s%40cret@mq.example.com:2883", Broker("mq.example.com", 2883, False, "ingest", "s@cret")),
        ("mqtts://broker.example.com", Broker("broker.example.com", 8883, True)),
        ("", Broker("127.0.0.1", 1883)),
    ],
)
def test_the_broker_url_names_host_port_tls_and_credentials(url, broker):
    assert parse_url(url) == broker


@pytest.mark.parametrize("url", ["http://broker", "mqtt://", "broker:1883"])
def test_a_broker_url_that_is_not_mqtt_is_refused(url):
    with pytest.raises(ValueError, match="mqtt://"):
        parse_url(url)


def test_the_topic_names_the_device_and_the_subscription_is_shared():
    assert device_topic("dev_abcdefghijkl", "fsm/v1") == "fsm/v1/devices/dev_abcdefghijkl/messages"
    assert subscription("fsm-ingest", "fsm/v1") == "$share/fsm-ingest/fsm/v1/devices/+/messages"
    assert prefix_in("fsm/v1/devices/dev_abcdefghijkl/messages", "fsm/v1") == "dev_abcdefghijkl"
    assert prefix_in("fsm/v1/devices/a/b/messages", "fsm/v1") is None
    assert prefix_in("other/devices/dev_x/messages", "fsm/v1") is None
