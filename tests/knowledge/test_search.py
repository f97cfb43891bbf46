"""The knowledge search: one code path for SQLite and PostgreSQL, English words and Chinese
character pairs, ranked by how many terms match, boosted by the fault category."""

import pytest

from fieldservice.knowledge import selectors, services
from tests import factories


@pytest.fixture
def library(world):
    agent = world.agent
    hydraulics = factories.fault_category("hydraulics", name="液压系统", name_en="Hydraulics")
    oil_temp = factories.fault_category("oil-temp", name="油温过高", parent=hydraulics)
    pump = factories.fault_category("pump", name="液压泵", parent=hydraulics)
    electrical = factories.fault_category("electrical", name="电气")

    def article(title, publish=True, **fields):
        made = services.create_article(actor=agent, title=title, **fields)
        return services.publish_article(made, actor=agent) if publish else made

    lib = {
        "oil_zh": article(
            "液压油温过高报警",
            symptoms="设备运行两小时后液压油温过高报警，油温达到70度",
            cause="冷却器散热片堵塞",
            solution="清洗冷却器，检查风扇",
            fault_category=oil_temp,
        ),
        "pump_zh": article(
            "液压泵压力不足", symptoms="压力表读数偏低", solution="更换液压泵密封圈", fault_category=pump
        ),
        "motor_zh": article(
            "伺服电机异响", symptoms="电机运行时有异响", solution="更换轴承", fault_category=electrical
        ),
        "oil_en": article(
            "Hydraulic oil overheating alarm",
            symptoms="Oil temperature alarm after two hours of running",
            cause="Cooler fins blocked with dust",
            solution="Clean the oil cooler and check the fan",
            fault_category=oil_temp,
        ),
        "belt_en": article(
            "Drive belt slipping", symptoms="Squealing noise at start-up", solution="Tension or replace the belt"
        ),
        "motor_en": article(
            "Servo motor noise", symptoms="Grinding noise from the servo motor", solution="Replace the motor bearing"
        ),
        "draft": article(
            "Oil temperature alarm draft", publish=False, symptoms="Oil temperature alarm", solution="Unchecked"
        ),
    }
    lib.update(oil_temp=oil_temp, pump=pump, hydraulics=hydraulics, electrical=electrical)
    return lib


def titles(results) -> list[str]:
    return [article.title for article in results]


def test_terms():
    assert selectors.search_terms("油温过高") == ["油温", "温过", "过高"]
    assert selectors.search_terms("Oil temp E42, the OIL!") == ["oil", "temp", "e42"]
    assert selectors.search_terms("IM-200 油温 a") == ["im", "200", "油温"]
    assert selectors.search_terms("  ") == []
    assert selectors.search_terms("泵") == ["泵"]


def test_an_english_query_ranks_the_relevant_article_first(library, world):
    results = selectors.search_articles(world.engineer, "hydraulic oil temperature alarm")
    assert results[0] == library["oil_en"]
    assert library["belt_en"] not in results
    assert results[0].matches == 4


def test_a_chinese_query_without_spaces_finds_the_article(library, world):
    results = selectors.search_articles(world.engineer, "油温过高")
    assert results[0] == library["oil_zh"]
    assert library["motor_zh"] not in results and library["pump_zh"] not in results
    assert "<mark>油温</mark>" in results[0].snippet


def test_a_longer_chinese_phrase_still_ranks_by_shared_pairs(library, world):
    results = selectors.search_articles(world.engineer, "液压油温度太高了")
    assert results[0] == library["oil_zh"]


def test_the_same_fault_category_is_boosted(library, world):
    # "更换" (replace) is in three articles; the one of the pump category comes first for it.
    results = selectors.search_articles(world.engineer, "更换", fault_category=library["pump"])
    assert results[0] == library["pump_zh"]
    results = selectors.search_articles(world.engineer, "更换", fault_category=library["electrical"])
    assert results[0] == library["motor_zh"]


def test_related_categories_are_boosted(library, world):
    # Without a category the two "更换" articles tie and the newer (motor) comes first; a sibling
    # or parent category of the pump lifts the pump article.
    assert titles(selectors.search_articles(world.engineer, "更换")) == ["伺服电机异响", "液压泵压力不足"]
    for related in ("oil_temp", "hydraulics"):
        results = selectors.search_articles(world.engineer, "更换", fault_category=library[related])
        assert titles(results) == ["液压泵压力不足", "伺服电机异响"], related


def test_drafts_are_found_only_by_editors(library, world):
    assert library["draft"] not in selectors.search_articles(world.engineer, "oil temperature alarm")
    assert library["draft"] in selectors.search_articles(world.agent, "oil temperature alarm")


def test_customers_find_nothing(library, world):
    assert selectors.search_articles(world.customer_user_a, "oil temperature alarm") == []
    assert not selectors.articles_for(world.customer_user_a).exists()


def test_empty_text_finds_nothing(library, world):
    assert selectors.search_articles(world.agent, "") == []
    assert selectors.search_articles(world.agent, " , ") == []


def test_the_limit_and_the_snippet_is_escaped(library, world):
    services.create_article(
        actor=world.agent, title="Escaping", symptoms="<script>alert(1)</script> oil leak", solution="x"
    )
    results = selectors.search_articles(world.agent, "oil leak", limit=2)
    assert len(results) == 2
    [escaped] = [a for a in selectors.search_articles(world.agent, "leak") if a.title == "Escaping"]
    assert "<script>" not in escaped.snippet and "&lt;script&gt;" in escaped.snippet


def test_wildcards_in_the_query_are_literal(library, world):
    assert selectors.search_articles(world.agent, "%% __") == []
