"""A small help-centre library for the bot, help-centre, suggestion and report tests.

Articles are written and published through KB-CORE's services, so they reach the search index the
way an editor's would.
"""

from __future__ import annotations

from collections.abc import Iterable

from aftersales.assets.models import ProductModel
from aftersales.core.models import User
from aftersales.core.roles import Role
from aftersales.knowledge import services
from aftersales.knowledge.models import Article, Category

from ..factories import UserFactory

E1_ZH = """热水器显示 E1 表示点火失败，燃气没有被点着。

## 处理步骤
1. 确认燃气阀门已经打开，燃气表有余额；
2. 关闭热水器电源，等待 30 秒后重新开机；
3. 检查排烟管是否被堵住。

如果重复出现 E1，请联系售后上门检修点火针。

## 保修说明
整机保修三年，主要部件保修五年，保修期内上门免费。"""

E1_EN = """Error E1 on the water heater means ignition failed: the gas did not light.

## What to do
1. Check that the gas valve is open and the gas meter has credit.
2. Switch the water heater off, wait 30 seconds and switch it on again.
3. Check that the flue pipe is not blocked.

If E1 comes back, ask for a technician to check the ignition electrode.

## Warranty
The whole unit has a three-year warranty, the main parts five years; visits are free during the warranty."""

NOZZLE_EN = """Limescale blocks the shower head nozzles over time.

Rub the rubber nozzles with your finger to push the scale out, then rinse the shower head under running water."""

FILTER_EN = """The shower head has a small filter screen at the hose connection.

Unscrew the shower head from the hose, take out the filter screen, rinse the shower head filter and screw it back."""

FLUSH_ZH = """马桶冲水无力，多半是水箱进水阀水位过低或者排水阀密封不严。

1. 打开水箱盖，调高进水阀浮球；
2. 检查排水阀密封圈是否老化，必要时更换。"""


def editor() -> User:
    return UserFactory(role=Role.SUPERVISOR, username="kb-web-editor@example.com")


def publish(
    *,
    key: str,
    title: str,
    body: str,
    locale: str = "en",
    summary: str = "",
    audience: str = "public",
    category: Category | None = None,
    product_models: Iterable[ProductModel] = (),
    translation_of: Article | None = None,
    published: bool = True,
) -> Article:
    user = editor()
    article = services.article_create(
        actor=user,
        locale=locale,
        key=key,
        title=title,
        body=body,
        summary=summary,
        category=category,
        product_models=product_models,
        audience=audience,
        translation_of=translation_of,
    )
    if published:
        version = article.versions.get(number=1)
        services.version_submit(actor=user, version=version)
        services.version_publish(actor=user, version=version)
        article.refresh_from_db()
    return article


def revise(article: Article, *, title: str, body: str, publish_it: bool = True) -> None:
    user = editor()
    version = services.version_save_draft(actor=user, article=article, title=title, body=body)
    if publish_it:
        services.version_submit(actor=user, version=version)
        services.version_publish(actor=user, version=version)
    article.refresh_from_db()


def build_library() -> dict[str, object]:
    heater = ProductModel.objects.create(code="LQ-WH-16", name="燃气热水器 16L", category="water_heater")
    faults = Category.objects.create(slug="faults", name_zh="故障排除", name_en="Troubleshooting")
    care = Category.objects.create(slug="care", name_zh="清洁保养", name_en="Care and cleaning")
    e1_zh = publish(
        key="water-heater-e1",
        locale="zh-hans",
        title="热水器显示 E1 故障代码怎么办",
        summary="点火失败的排查步骤",
        body=E1_ZH,
        category=faults,
        product_models=[heater],
    )
    e1_en = publish(
        key="water-heater-e1",
        locale="en",
        title="The water heater shows error E1",
        summary="What to do when ignition fails",
        body=E1_EN,
        category=faults,
        product_models=[heater],
        translation_of=e1_zh,
    )
    nozzle = publish(
        key="shower-head-nozzles",
        title="Cleaning the shower head nozzles",
        body=NOZZLE_EN,
        category=care,
    )
    screen = publish(
        key="shower-head-filter",
        title="Cleaning the shower head filter",
        body=FILTER_EN,
        category=care,
    )
    flush = publish(key="weak-flush", locale="zh-hans", title="马桶冲水无力", body=FLUSH_ZH, category=faults)
    internal = publish(
        key="ignition-repair-pricing",
        locale="en",
        title="Ignition electrode repair pricing (internal)",
        body="Internal price list for replacing the ignition electrode of the water heater: parts at cost.",
        audience="internal",
        category=faults,
    )
    draft = publish(
        key="secret-draft",
        locale="en",
        title="Water heater recall draft",
        body="A draft about a water heater recall that customers must never see.",
        published=False,
    )
    return {
        "e1_zh": e1_zh,
        "e1_en": e1_en,
        "nozzle": nozzle,
        "filter": screen,
        "flush": flush,
        "internal": internal,
        "draft": draft,
        "heater": heater,
        "faults": faults,
        "care": care,
    }
