"""How the answer bot decides on the demo service manual's customer-phrased questions.

Every public question of ``knowledge/content/eval/questions.json`` (the retrieval evaluation's set,
both languages) is asked in a fresh bot session. Each reply is counted as:

* **answer, right** — the bot answered with the expected article;
* **answer, wrong** — it answered confidently with another article (the costly mistake);
* **clarify, offered** — it asked which article was meant and the expected one was among the options;
* **clarify, missed** — it asked, without the expected article among the options;
* **hand-over** — it found nothing it trusted and passed the customer to a person.

"Resolved by the bot" = answer right + clarify offered (the customer reaches the right article).

    .venv/bin/python bench/bot_eval.py                     # SQLite and PostgreSQL
    .venv/bin/python bench/bot_eval.py --databases sqlite --show-wrong
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import kb_eval  # noqa: E402
from kb_eval import QUESTIONS, prepare_database  # noqa: E402

kb_eval.PG_DATABASE = "aftersales_bench_bot_eval"  # not the retrieval evaluation's database

OUTCOMES = ("answer_right", "answer_wrong", "clarify_offered", "clarify_missed", "handover")


def classify(questions: list[dict]) -> list[dict]:
    from aftersales.knowledge import bot
    from aftersales.knowledge.models import Article

    keys = dict(Article.objects.values_list("pk", "key"))
    results = []
    for question in questions:
        if question.get("audience", "public") != "public":
            continue
        session = bot.bot_session_start(channel="help", locale=question["locale"])
        reply = bot.bot_ask(session=session, question=question["question"])
        shown = [keys.get(source.article_id, "?") for source in reply.sources]
        hit = any(key in question["expected"] for key in shown)
        if reply.kind == "answer":
            outcome = "answer_right" if hit else "answer_wrong"
        elif reply.kind == "clarify":
            outcome = "clarify_offered" if hit else "clarify_missed"
        else:
            outcome = "handover"
        results.append({**question, "outcome": outcome, "shown": shown})
    return results


def summary(results: list[dict]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[dict]] = {"all": results}
    for result in results:
        groups.setdefault("zh" if result["locale"] == "zh-hans" else "en", []).append(result)
    table = {}
    for name, group in groups.items():
        counts = {outcome: sum(1 for r in group if r["outcome"] == outcome) for outcome in OUTCOMES}
        n = len(group)
        table[name] = {
            "n": n,
            **{outcome: round(count / n, 3) for outcome, count in counts.items()},
            "resolved": round((counts["answer_right"] + counts["clarify_offered"]) / n, 3),
        }
    return table


def worker(show_wrong: bool) -> None:
    import django

    django.setup()
    prepare_database()
    results = classify(json.loads(QUESTIONS.read_text(encoding="utf-8")))
    if show_wrong:
        for result in results:
            if result["outcome"] not in ("answer_right", "clarify_offered"):
                print(
                    f"{result['outcome']:>15} {result['id']} {result['question']} → want {result['expected'][0]}, "
                    f"shown {result['shown']}",
                    file=sys.stderr,
                )
    print(json.dumps(summary(results)))


def render(results: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = [
        "| database | language | questions | answer, right | answer, wrong | clarify, offered | clarify, missed | hand-over | resolved |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for database, table in results.items():
        for language in ("all", "zh", "en"):
            row = table[language]
            lines.append(
                f"| {database} | {language} | {row['n']} | {row['answer_right']:.3f} | {row['answer_wrong']:.3f} | "
                f"{row['clarify_offered']:.3f} | {row['clarify_missed']:.3f} | {row['handover']:.3f} | "
                f"{row['resolved']:.3f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--databases", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"]
    )
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--show-wrong", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.show_wrong)
        return
    flags = ["--show-wrong"] if args.show_wrong else []
    results = kb_eval.run_workers(__file__, args.databases, args.pg, flags, prefix="bot-eval-")
    print(render(results))


if __name__ == "__main__":
    main()
