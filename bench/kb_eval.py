"""Retrieval evaluation of the knowledge search over the demo service manual.

The questions (``knowledge/content/eval/questions.json``) are phrased the way customers ask —
colloquially, without the article's title words where a customer would not use them — each with
the key of the article that answers it. Two per article per language: the first of each pair is
the *dev* split (looked at while tuning the dictionary, synonyms and weights), the second the
*test* split (not looked at while tuning). For each database the script migrates a fresh
database, loads the demo manual (``aftersales.demo.knowledge``), asks every question with
``article_search`` (the question's language, public audience; staff for the internal standards)
and reports recall@5 (an expected article among the first five) and MRR@10.

    .venv/bin/python bench/kb_eval.py                       # SQLite and PostgreSQL
    .venv/bin/python bench/kb_eval.py --databases sqlite --show-misses
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "src" / "aftersales" / "knowledge" / "content" / "eval" / "questions.json"
PG_DATABASE = "aftersales_bench_kb_eval"


def database_env(database: str, pg: str, data_dir: str) -> dict[str, str]:
    env = {**os.environ, "AFTERSALES_DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "aftersales.settings"}
    env["AFTERSALES_DATABASE_URL"] = f"{pg.rstrip('/')}/{PG_DATABASE}" if database == "postgres" else ""
    return env


def run_workers(script: str, databases: list[str], pg: str, flags: list[str], *, prefix: str) -> dict:
    """Run ``script --worker`` once per database in a fresh data directory (and a fresh PostgreSQL
    database); each prints its summary as JSON on its last line. Verbose flags show stderr."""
    results = {}
    for database in databases:
        with tempfile.TemporaryDirectory(prefix=prefix) as data_dir:
            if database == "postgres":
                recreate_pg(pg)
            output = subprocess.run(
                [sys.executable, script, "--worker", *flags],
                env=database_env(database, pg, data_dir),
                check=True,
                text=True,
                stdout=subprocess.PIPE,
                stderr=None if flags else subprocess.DEVNULL,
            ).stdout
            results[database] = json.loads(output.strip().splitlines()[-1])
    return results


def recreate_pg(pg: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"')
        conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')


def prepare_database() -> None:
    """Migrate, add the demo product models and load the demo manual (indexed)."""
    import datetime as dt

    from django.core.management import call_command
    from django.utils import timezone

    from aftersales.assets.models import ProductModel
    from aftersales.demo.catalogue import PRODUCTS
    from aftersales.demo.knowledge import seed_knowledge

    call_command("migrate", verbosity=0)
    for product in PRODUCTS:
        ProductModel.objects.get_or_create(
            code=product.code,
            defaults={
                "name": product.name,
                "name_en": product.name_en,
                "category": product.category,
                "warranty_months": product.warranty_months,
            },
        )
    seed_knowledge(anchor=timezone.now() - dt.timedelta(days=1), actor=None)


def evaluate(questions: list[dict]) -> list[dict]:
    from aftersales.knowledge.models import Article
    from aftersales.knowledge.search import article_search

    keys = dict(Article.objects.values_list("pk", "key"))
    answers = []
    for question in questions:
        result = article_search(
            query=question["question"],
            locale=question["locale"],
            audience=question.get("audience", "public"),
            limit=10,
        )
        found = [keys.get(hit.article_id, "?") for hit in result.hits]
        rank = next((index + 1 for index, key in enumerate(found) if key in question["expected"]), None)
        answers.append({**question, "found": found, "rank": rank, "corrected": result.corrected_query})
    return answers


def metrics(answers: list[dict]) -> dict[str, float]:
    if not answers:
        return {"n": 0, "recall@5": 0.0, "mrr@10": 0.0}
    recall = sum(1 for a in answers if a["rank"] is not None and a["rank"] <= 5) / len(answers)
    mrr = sum(1 / a["rank"] for a in answers if a["rank"] is not None and a["rank"] <= 10) / len(answers)
    return {"n": len(answers), "recall@5": round(recall, 3), "mrr@10": round(mrr, 3)}


def summarise(answers: list[dict]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[dict]] = {"all": answers}
    for answer in answers:
        language = "zh" if answer["locale"] == "zh-hans" else "en"
        for name in (language, f"{language}/{answer['split']}", answer["split"]):
            groups.setdefault(name, []).append(answer)
    return {name: metrics(group) for name, group in sorted(groups.items())}


def worker(show_misses: bool) -> None:
    import django

    django.setup()
    prepare_database()
    questions = json.loads(QUESTIONS.read_text(encoding="utf-8"))
    answers = evaluate(questions)
    if show_misses:
        for answer in answers:
            if answer["rank"] is None or answer["rank"] > 5:
                print(
                    f"MISS {answer['id']} [{answer['split']}] {answer['question']} → want {answer['expected'][0]}, "
                    f"got {answer['found'][:5]} (rank {answer['rank']})",
                    file=sys.stderr,
                )
    print(json.dumps(summarise(answers)))


def render(results: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = [
        "| database | questions | recall@5 | MRR@10 | zh recall@5 | zh MRR@10 | en recall@5 | en MRR@10 | test-split recall@5 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for database, summary in results.items():
        lines.append(
            f"| {database} | {summary['all']['n']} | {summary['all']['recall@5']:.3f} | {summary['all']['mrr@10']:.3f} | "
            f"{summary['zh']['recall@5']:.3f} | {summary['zh']['mrr@10']:.3f} | {summary['en']['recall@5']:.3f} | "
            f"{summary['en']['mrr@10']:.3f} | {summary['test']['recall@5']:.3f} |"
        )
    return "\n".join(lines)


def write_doc(table: str) -> None:
    """Replace the table between this benchmark's markers in docs/benchmarks.md (append them if absent)."""
    import datetime as dt
    import platform

    doc = ROOT / "docs" / "benchmarks.md"
    begin, end = "<!-- kb-eval:begin -->", "<!-- kb-eval:end -->"
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
    parser.add_argument(
        "--databases", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"]
    )
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--doc", action="store_true", help="write the table into docs/benchmarks.md")
    parser.add_argument("--json", action="store_true", help="print the full summaries as JSON")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.show_misses)
        return
    flags = ["--show-misses"] if args.show_misses else []
    results = run_workers(__file__, args.databases, args.pg, flags, prefix="kb-eval-")
    print(json.dumps(results, indent=1) if args.json else render(results))
    if args.doc:
        write_doc(render(results))


if __name__ == "__main__":
    main()
