"""Knowledge search latency over 100,000 published articles, on SQLite and on PostgreSQL.

For each database: migrate a fresh database, generate ``--articles`` articles (deterministic from
``--seed``; half Chinese, half English; 10 % internal; each linked to a product model and a
category), insert them in bulk as published version 1 and index them with the real indexer
(``search.index_articles``: jieba/Snowball, FTS5 or tsvector, document frequencies). The articles
are assembled from the demo manual's own sentences, titles and product names (shuffled, with case
numbers and model codes), so the vocabulary and term frequencies look like a large real manual:
common words are in a large share of the documents.

Then every query of a mixed set — the 256 customer questions of ``bench/kb_eval.py`` plus short
keyword, model-number, typo and partial-word queries, with and without product/category filters —
runs once to warm up and once timed, in-process, through ``article_search`` (ranking, total count,
snippets and all). Reported: p50/p95/p99 in milliseconds, per language and overall.

    .venv/bin/python bench/kb_latency.py                         # 100k, SQLite and PostgreSQL
    .venv/bin/python bench/kb_latency.py --articles 20000 --databases sqlite
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "src" / "aftersales" / "knowledge" / "content" / "eval" / "questions.json"
PG_DATABASE = "aftersales_bench_kb_latency"
KEYWORDS_ZH = (
    "马桶漏水",
    "恒温花洒",
    "智能马桶 E3",
    "角阀",
    "地漏返臭",
    "龙头滴水",
    "热水器跳闸",
    "保修期",
    "退货",
    "浴室柜铰链",
    "起泡器",
    "陶瓷阀芯",
    "坐圈不加热",
    "遥控器",
    "水垢",
    "LQ-ZT-S7",
    "LQ-HS-880 漏水",
    "S7 停电",
    "冲水无力",
    "法兰密封圈",
    "发票丢了",
    "上门费",
    "镜前灯",
    "防冻",
    "滤芯",
    "花洒软管",
    "台盆下水慢",
    "镁棒",
)
KEYWORDS_EN = (
    "toilet leak",
    "thermostatic shower",
    "error E3",
    "angle valve",
    "drain smell",
    "dripping tap",
    "heater tripping",
    "warranty",
    "return",
    "hinge",
    "aerator",
    "cartridge",
    "seat heating",
    "remote",
    "limescale",
    "LQ-ZT-S7",
    "HS880 leak",
    "power cut flush",
    "weak flush",
    "flange seal",
    "lost receipt",
    "call-out fee",
    "mirror light",
    "frost",
    "filter",
    "shower hose",
    "slow basin",
    "anode rod",
    "thermostatik",
    "instal",
    "toliet",
    "cartr",
)


def database_env(database: str, pg: str, data_dir: str) -> dict[str, str]:
    env = {**os.environ, "AFTERSALES_DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "aftersales.settings"}
    env["AFTERSALES_DATABASE_URL"] = f"{pg.rstrip('/')}/{PG_DATABASE}" if database == "postgres" else ""
    env["AFTERSALES_LOG_LEVEL"] = "WARNING"
    return env


def recreate_pg(pg: str, keep: bool) -> None:
    import psycopg

    with psycopg.connect(f"{pg.rstrip('/')}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_DATABASE]).fetchone()
        if exists and keep:
            return
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"')
        conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')


def _material(locale: str) -> tuple[list[str], list[str]]:
    """Sentences and titles of the demo manual in one language."""
    from aftersales.demo.knowledge import load_content
    from aftersales.knowledge.text import markdown_to_text

    sentences, titles = [], []
    for spec in load_content().articles:
        if spec.locale != locale:
            continue
        titles.append(spec.title)
        sentences += [
            line.strip() for line in markdown_to_text(spec.body).splitlines() if len(line.strip()) > 8
        ]
    return sentences, titles


def generate(count: int, seed: int, batch: int) -> float:
    """Insert ``count`` published articles and index them; the seconds the indexing took."""
    import datetime as dt

    from django.db import connection, transaction
    from django.utils import timezone

    from aftersales.assets.models import ProductModel
    from aftersales.demo.catalogue import PRODUCTS
    from aftersales.knowledge import search
    from aftersales.knowledge.models import Article, ArticleVersion, Category

    rng = random.Random(seed)
    models = [
        ProductModel.objects.get_or_create(
            code=p.code, defaults={"name": p.name, "name_en": p.name_en, "category": p.category}
        )[0]
        for p in PRODUCTS
    ]
    categories = [
        Category.objects.get_or_create(
            slug=f"bench-{n}", defaults={"name_zh": f"类别{n}", "name_en": f"Category {n}"}
        )[0]
        for n in range(12)
    ]
    material = {locale: _material(locale) for locale in ("zh-hans", "en")}
    now = timezone.now() - dt.timedelta(days=1)
    through = Article.product_models.through
    indexing = 0.0
    for start in range(0, count, batch):
        stop = min(count, start + batch)
        with transaction.atomic():
            articles = []
            for number in range(start, stop):
                locale = "zh-hans" if number % 2 == 0 else "en"
                articles.append(
                    Article(
                        key=f"bench-{number:07d}",
                        locale=locale,
                        translation_group=uuid.UUID(int=rng.getrandbits(128)),
                        category=rng.choice(categories),
                        audience="internal" if rng.random() < 0.1 else "public",
                        created_at=now,
                        updated_at=now,
                    )
                )
            Article.objects.bulk_create(articles)
            versions, links = [], []
            for article in articles:
                sentences, titles = material[article.locale]
                model = rng.choice(models)
                case = f"{rng.randrange(10**6):06d}"
                name = model.name if article.locale == "zh-hans" else model.name_en
                title = f"{rng.choice(titles)} · {name} {model.code} #{case}"
                body = "\n".join(rng.sample(sentences, rng.randint(4, 9)))
                versions.append(
                    ArticleVersion(
                        article=article,
                        number=1,
                        title=title[:200],
                        summary=rng.choice(sentences)[:500],
                        body=body,
                        status="published",
                        published_at=now,
                        effective_at=now,
                        created_at=now,
                        updated_at=now,
                    )
                )
                links.append(through(article_id=article.pk, productmodel_id=model.pk))
            ArticleVersion.objects.bulk_create(versions)
            through.objects.bulk_create(links)
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE knowledge_article SET published_version_id = (SELECT v.id FROM knowledge_articleversion v "
                    "WHERE v.article_id = knowledge_article.id AND v.number = 1) WHERE id >= %s AND id <= %s",
                    [articles[0].pk, articles[-1].pk],
                )
            started = time.monotonic()
            search.index_articles([article.pk for article in articles])
            indexing += time.monotonic() - started
        print(f"  {stop:,} articles", file=sys.stderr, flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO knowledge_search_document(knowledge_search_document) VALUES ('optimize')"
            )
            cursor.execute("ANALYZE")
    return indexing


def queries(seed: int) -> list[dict]:
    from aftersales.knowledge.models import Category

    rng = random.Random(seed + 1)
    items = [
        {"query": q["question"], "locale": q["locale"], "audience": q.get("audience", "public")}
        for q in json.loads(QUESTIONS.read_text(encoding="utf-8"))
    ]
    items += [{"query": k, "locale": "zh-hans", "audience": "public"} for k in KEYWORDS_ZH]
    items += [{"query": k, "locale": "en", "audience": "public"} for k in KEYWORDS_EN]
    items += [{"query": k, "locale": None, "audience": "staff"} for k in KEYWORDS_ZH[:10] + KEYWORDS_EN[:10]]
    category_ids = list(Category.objects.filter(slug__startswith="bench-").values_list("pk", flat=True))
    from aftersales.assets.models import ProductModel

    model_ids = list(ProductModel.objects.values_list("pk", flat=True))
    for item in rng.sample(items, 60):
        extra = dict(item)
        if rng.random() < 0.5:
            extra["product_model_id"] = rng.choice(model_ids)
        else:
            extra["category_id"] = rng.choice(category_ids)
        items.append(extra)
    return items


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def stats(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 0.50), 1),
        "p95_ms": round(percentile(values, 0.95), 1),
        "p99_ms": round(percentile(values, 0.99), 1),
        "mean_ms": round(statistics.fmean(values), 1),
    }


def worker(count: int, seed: int, batch: int, reuse: bool) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from aftersales.knowledge.models import Article
    from aftersales.knowledge.search import article_search

    call_command("migrate", verbosity=0)
    indexing = None
    existing = Article.objects.filter(key__startswith="bench-").count()
    if not (reuse and existing >= count):
        started = time.monotonic()
        indexing = generate(count, seed, batch)
        print(
            f"  generated in {time.monotonic() - started:.0f} s (indexing {indexing:.0f} s)", file=sys.stderr
        )
    items = queries(seed)
    timings: dict[str, list[float]] = {"all": [], "zh": [], "en": [], "filtered": []}
    hits = 0
    for timed in (False, True):
        for item in items:
            started = time.perf_counter()
            result = article_search(**item, limit=10)
            elapsed = (time.perf_counter() - started) * 1000
            if not timed:
                continue
            hits += bool(result.hits)
            timings["all"].append(elapsed)
            language = "zh" if any("\u4e00" <= c <= "\u9fff" for c in item["query"]) else "en"
            timings[language].append(elapsed)
            if "product_model_id" in item or "category_id" in item:
                timings["filtered"].append(elapsed)
    summary = {name: stats(values) for name, values in timings.items() if values}
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "articles": Article.objects.filter(key__startswith="bench-").count(),
                "indexing_s": round(indexing, 1) if indexing is not None else None,
                "queries_with_hits": hits,
                **summary,
            }
        )
    )


def render(results: dict[str, dict]) -> str:
    lines = [
        "| database | articles | queries | p50 ms | p95 ms | p99 ms | zh p95 | en p95 | filtered p95 | indexing |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for database, r in results.items():
        indexing = f"{r['indexing_s']:.0f} s" if r.get("indexing_s") else "reused"
        lines.append(
            f"| {database} | {r['articles']:,} | {r['all']['n']} | {r['all']['p50_ms']} | {r['all']['p95_ms']} | "
            f"{r['all']['p99_ms']} | {r['zh']['p95_ms']} | {r['en']['p95_ms']} | {r['filtered']['p95_ms']} | {indexing} |"
        )
    return "\n".join(lines)


def write_doc(table: str) -> None:
    """Replace the table between this benchmark's markers in docs/benchmarks.md (append them if absent)."""
    import datetime as dt
    import platform

    doc = ROOT / "docs" / "benchmarks.md"
    begin, end = "<!-- kb-latency:begin -->", "<!-- kb-latency:end -->"
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    if begin not in text:
        text += f"\n{begin}\n{end}\n"
    head, rest = text.split(begin, 1)
    stamp = f"Measured {dt.datetime.now(tz=dt.UTC).date()} on {platform.node() or 'this machine'} ({os.cpu_count()} cores), `{Path(__file__).name}`:"
    doc.write_text(f"{head}{begin}\n{stamp}\n\n{table}\n{end}{rest.split(end, 1)[1]}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument(
        "--databases", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"]
    )
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument(
        "--data-dir", default=os.environ.get("BENCH_DATA_DIR", ""), help="keep the SQLite file here"
    )
    parser.add_argument("--reuse", action="store_true", help="keep databases already holding the articles")
    parser.add_argument("--doc", action="store_true", help="write the table into docs/benchmarks.md")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.articles, args.seed, args.batch, args.reuse)
        return
    results = {}
    for database in args.databases:
        with tempfile.TemporaryDirectory(prefix="kb-latency-") as scratch:
            data_dir = args.data_dir or scratch
            if database == "postgres":
                recreate_pg(args.pg, keep=args.reuse)
            print(f"[{database}] {args.articles:,} articles …", file=sys.stderr, flush=True)
            command = [
                sys.executable,
                __file__,
                "--worker",
                "--articles",
                str(args.articles),
                "--seed",
                str(args.seed),
            ]
            command += ["--batch", str(args.batch)] + (["--reuse"] if args.reuse else [])
            output = subprocess.run(
                command,
                env=database_env(database, args.pg, data_dir),
                check=True,
                text=True,
                stdout=subprocess.PIPE,
            ).stdout
            results[database] = json.loads(output.strip().splitlines()[-1])
    print(json.dumps(results, indent=1) if args.json else render(results))
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"load average after the run: {load} (the figures are wall-clock times on a shared machine)")
    if args.doc:
        write_doc(f"{render(results)}\n\nLoad average at the end of the run: {load}.")


if __name__ == "__main__":
    main()
