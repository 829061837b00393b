"""Knowledge search on the test database (run on SQLite and on PostgreSQL)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from aftersales.assets.models import ProductModel
from aftersales.core.errors import ValidationFailed
from aftersales.knowledge import search
from aftersales.knowledge.models import Article, Category
from aftersales.knowledge.text import tokenize

from .search_support import new_version, publish_article

pytestmark = pytest.mark.django_db

SHOWER_BODY = """## 现象
洗澡时水温忽冷忽热，调节把手也不能稳定在设定温度。

## 原因
恒温阀芯内的感温元件被水垢卡住，或者冷热水压差过大。

## 处理步骤
1. 关闭角阀，拆下恒温阀芯；
2. 用白醋浸泡阀芯 30 分钟除垢；
3. 装回后重新校准 38℃ 刻度。
"""

FAUCET_BODY = """Your basin faucet drips when it is closed? The ceramic cartridge inside is worn.
Installing a new cartridge takes ten minutes: shut the angle valves, remove the handle, unscrew the
old cartridge and fit the new one. <script>alert(1)</script> Never overtighten the nut (torque < 5 N·m & no tools)."""


@pytest.fixture
def library(db):
    shower_model = ProductModel.objects.create(
        code="LQ-HS-880", name="恒温花洒套装 880", name_en="Thermostatic shower set 880", category="shower"
    )
    faucet_model = ProductModel.objects.create(
        code="LQ-SL-101", name="面盆龙头 101", name_en="Basin faucet 101", category="faucet"
    )
    troubleshooting = Category.objects.create(
        slug="troubleshooting", name_zh="故障排除", name_en="Troubleshooting"
    )
    showers = Category.objects.create(
        slug="shower-faults", name_zh="花洒故障", name_en="Shower faults", parent=troubleshooting
    )
    install = Category.objects.create(slug="installation", name_zh="安装", name_en="Installation")
    return {
        "shower_zh": publish_article(
            key="shower-temperature",
            title="恒温花洒水温不稳定的排查",
            summary="恒温阀芯除垢与校准",
            body=SHOWER_BODY,
            category=showers,
            product_models=[shower_model],
            tags=["恒温阀", "水温"],
        ),
        "toilet_zh": publish_article(
            key="toilet-base-leak",
            title="马桶底座漏水怎么处理",
            body="马桶底部渗水多半是法兰密封圈老化。更换法兰密封圈并重新打玻璃胶。",
            category=troubleshooting,
        ),
        "faucet_en": publish_article(
            key="faucet-cartridge",
            locale="en",
            title="Replacing the ceramic cartridge of a dripping faucet",
            body=FAUCET_BODY,
            category=install,
            product_models=[faucet_model],
        ),
        "install_en": publish_article(
            key="thermostatic-shower-installation",
            locale="en",
            title="Thermostatic shower installation",
            body="How to install the thermostatic shower set: mount the bar, connect hot on the left and cold on the right.",
            category=install,
            product_models=[shower_model],
        ),
        "internal_zh": publish_article(
            key="repair-pricing",
            title="维修收费内部标准",
            body="恒温阀芯更换的内部收费标准：材料费按备件价，工时费 80 元。",
            audience="internal",
            category=troubleshooting,
        ),
        "draft_zh": publish_article(
            key="draft-shower",
            title="恒温花洒草稿",
            body="恒温阀芯秘密草稿内容",
            publish=False,
        ),
        "models": {"shower": shower_model, "faucet": faucet_model},
        "categories": {"troubleshooting": troubleshooting, "showers": showers, "install": install},
    }


def ids(result: search.SearchResult) -> list[int]:
    return [hit.article_id for hit in result.hits]


def test_tokenize_cuts_chinese_with_product_terms_and_stems_english():
    assert {"恒温阀", "恒温阀芯", "阀芯"} <= set(tokenize("恒温阀芯坏了"))
    assert "智能马桶" in tokenize("智能马桶不加热")
    assert tokenize("install installing installation") == ["instal", "instal", "instal"]
    assert tokenize("the LQ-T201") == ["lqt201", "t201", "lq"]
    assert "的" not in tokenize("花洒的水")


def test_chinese_question_finds_the_article(library):
    result = search.article_search(query="洗澡水忽冷忽热怎么办", locale="zh-hans")
    assert ids(result)[0] == library["shower_zh"].pk
    assert result.hits[0].title == "恒温花洒水温不稳定的排查"
    assert result.hits[0].locale == "zh-hans"


def test_english_stemming_matches_other_word_forms(library):
    for query in ("install", "installing", "installation"):
        result = search.article_search(query=f"{query} thermostatic shower", locale="en")
        assert ids(result)[0] == library["install_en"].pk, query


def test_typo_is_corrected_and_reported(library):
    result = search.article_search(query="thermostatik shower", locale="en")
    assert ids(result)[0] == library["install_en"].pk
    assert result.corrected_query == "thermostatic shower"


def test_partial_last_word_is_a_prefix(library):
    result = search.article_search(query="ceramic cartr", locale="en")
    assert ids(result) == [library["faucet_en"].pk]
    assert result.corrected_query is None


def test_model_number_is_one_term(library):
    result = search.article_search(query="LQ-HS-880")
    assert set(ids(result)) == {library["shower_zh"].pk, library["install_en"].pk}
    assert library["shower_zh"].pk in ids(search.article_search(query="hs880"))


def test_filters_by_product_model_and_category_with_subcategories(library):
    shower = library["models"]["shower"]
    assert ids(search.article_search(query="恒温 安装 install", product_model_id=shower.pk)) != []
    assert set(ids(search.article_search(query="恒温 install", product_model_id=shower.pk))) <= {
        library["shower_zh"].pk,
        library["install_en"].pk,
    }
    troubleshooting = library["categories"]["troubleshooting"]
    found = ids(search.article_search(query="恒温 漏水", category_id=troubleshooting.pk))
    assert set(found) == {library["shower_zh"].pk, library["toilet_zh"].pk}  # a subcategory counts
    assert (
        ids(search.article_search(query="恒温 漏水", category_id=library["categories"]["install"].pk)) == []
    )


def test_drafts_and_internal_articles_stay_hidden_from_the_public(library):
    public = ids(search.article_search(query="恒温阀芯", audience="public"))
    staff = ids(search.article_search(query="恒温阀芯", audience="staff"))
    assert library["internal_zh"].pk not in public
    assert library["internal_zh"].pk in staff
    assert library["draft_zh"].pk not in public + staff
    assert ids(search.article_search(query="秘密草稿", audience="staff")) == []


def test_snippet_marks_matches_and_escapes_html(library):
    result = search.article_search(query="overtighten nut", locale="en")
    snippet = result.hits[0].snippet_html
    assert "<mark>overtighten</mark>" in snippet
    assert "&lt; 5 N·m &amp; no tools" in snippet
    assert "<script" not in snippet and "alert" not in snippet
    zh = search.article_search(query="恒温阀芯除垢", locale="zh-hans").hits[0].snippet_html
    assert "<mark>恒温阀芯</mark>" in zh
    assert len(zh.replace("<mark>", "").replace("</mark>", "")) <= 170


def test_a_new_published_version_replaces_the_old_text_in_the_index(library):
    article = library["toilet_zh"]
    new_version(article, title="马桶底座渗水的处理", body="检查蜡圈是否压扁，重新安装马桶。")
    assert ids(search.article_search(query="法兰密封圈")) == []
    result = search.article_search(query="蜡圈")
    assert ids(result) == [article.pk]
    assert result.hits[0].version_id == article.published_version_id
    assert result.hits[0].title == "马桶底座渗水的处理"


def test_rebuild_index_and_the_management_command(library, capsys):
    assert search.rebuild_index() == 5
    call_command("kb_reindex")
    assert "indexed 5 articles" in capsys.readouterr().out
    assert ids(search.article_search(query="蜡圈 法兰")) == [library["toilet_zh"].pk]


def test_stale_index_rows_are_never_shown(library):
    article = library["toilet_zh"]
    Article.objects.filter(pk=article.pk).update(published_version=None)  # behind the services' back
    assert ids(search.article_search(query="法兰密封圈")) == []


def test_bad_arguments_are_validation_errors_and_empty_queries_find_nothing(library):
    with pytest.raises(ValidationFailed):
        search.article_search(query="x", audience="everyone")
    with pytest.raises(ValidationFailed):
        search.article_search(query="x", locale="fr")
    assert search.article_search(query="  ？！ ").hits == []
    assert search.article_search(query='"恒温" OR * AND ( NEAR').total >= 0
    assert search.article_search(query="x" * 5000).total == 0


def test_a_large_index_selects_candidates_by_rare_terms_and_ands_common_ones(library, monkeypatch):
    # Pretend the index is large and every term common: the query then needs all its terms…
    monkeypatch.setattr(search, "COMMON_MIN_DOCUMENTS", 1)
    monkeypatch.setattr(search, "COMMON_SHARE", 0.0)
    both = search.article_search(query="恒温阀芯 除垢")
    assert ids(both) == [library["shower_zh"].pk]
    # … and falls back to any of them when no article has all.
    either = search.article_search(query="法兰密封圈 除垢")
    assert set(ids(either)) == {library["shower_zh"].pk, library["toilet_zh"].pk}


def test_paging_and_totals(library):
    first = search.article_search(query="恒温 漏水 install 阀芯", audience="staff", limit=2)
    assert first.total == 5 and len(first.hits) == 2
    rest = search.article_search(query="恒温 漏水 install 阀芯", audience="staff", limit=2, offset=2)
    assert rest.total == 5
    assert len(rest.hits) == 2 and not set(ids(first)) & set(ids(rest))


def test_narrow_filters_beyond_the_ranked_window_still_find_everything(library, monkeypatch):
    # SQLite filters only the best matches ranked in the index; a narrow filter falls back to the
    # articles table. PostgreSQL filters in one query; both must give the same answer.
    monkeypatch.setattr(search, "SQLITE_WINDOW_FACTOR", 0)
    monkeypatch.setattr(search, "SQLITE_WINDOW_EXTRA", 1)
    shower = library["models"]["shower"]
    result = search.article_search(query="恒温 install 阀芯 漏水", product_model_id=shower.pk, limit=1)
    assert result.total == 2
    assert ids(result)[0] in {library["shower_zh"].pk, library["install_en"].pk}
    found = search.article_search(query="恒温 漏水", category_id=library["categories"]["troubleshooting"].pk)
    assert set(ids(found)) == {library["shower_zh"].pk, library["toilet_zh"].pk}
    assert found.total == 2
    staff = search.article_search(query="恒温阀芯 收费", audience="staff", locale="zh-hans")
    assert library["internal_zh"].pk in ids(staff)
    assert library["internal_zh"].pk not in ids(
        search.article_search(query="恒温阀芯 收费", locale="zh-hans")
    )
