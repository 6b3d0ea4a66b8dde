"""Tools of the support_triage scenario: KB search, sentiment analysis and categorisation.

The knowledge base (kb.yaml) is indexed with SQLite FTS5 through sqlite-utils the first time a
tool needs it, into an in-memory database shared by every tool instance of the process. Nothing
is written next to the scenario, so there is no .db file to keep out of git.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

import sqlite_utils
import yaml
from crewai.tools import BaseTool
from pydantic import BaseModel, Field, ValidationError

__all__ = ["CategorizeTool", "IssueRefundTool", "KBSearchTool", "SentimentTool", "kb_articles", "routing",
           "search_kb"]

KB_PATH = Path(__file__).with_name("kb.yaml")
# Self-contained on purpose (no crewbench import): `crewbench export` copies this module and the
# files named here into the exported project. Inside crewbench the engine has already imported
# CrewAI through crewbench.compat.hygiene, so the import above finds it quiet and offline.
EXPORT_FILES = ("kb.yaml",)
# Words that carry no topic: dropped from queries so that bm25 ranks on the customer's problem.
_STOPWORD_TEXT = """
a about after again all also am an and any are as at be been before but by can cant could did
didnt do does dont for from get got had has have hi hello how i im i'm if in into is isnt it its
just me my no not now of on one or our out please so some still that the their them then there
they this to too up us was we were what when where which who why will with would you your yours
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_lock = threading.Lock()
_db: sqlite_utils.Database | None = None
_kb: dict[str, Any] | None = None


def _load_kb() -> dict[str, Any]:
    global _kb
    if _kb is None:
        _kb = yaml.safe_load(KB_PATH.read_text(encoding="utf-8"))
    return _kb


def kb_articles() -> list[dict[str, Any]]:
    return list(_load_kb()["articles"])


def routing() -> dict[str, str]:
    return dict(_load_kb()["routing"])


def _database() -> sqlite_utils.Database:
    """The FTS index, built once per process. check_same_thread=False: CrewAI runs tools in
    worker threads; every query holds _lock, so the connection is never used concurrently."""
    global _db
    if _db is None:
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        db = sqlite_utils.Database(conn)
        db["articles"].insert_all(
            ({"id": a["id"], "title": a["title"], "category": a["category"], "body": a["body"]}
             for a in kb_articles()),
            pk="id",
        )
        # Porter stemming so "charged" finds "charge" and "refunds" finds "refund".
        db["articles"].enable_fts(["title", "body"], tokenize="porter")
        _db = db
    return _db


def fts_query(text: str, max_terms: int = 24) -> str:
    """Free text -> an FTS5 OR-query of quoted terms (FTS5 syntax in user text cannot leak in)."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    terms: list[str] = []
    for word in words:
        if len(word) > 1 and word not in STOPWORDS and word not in terms:
            terms.append(word)
    return " OR ".join(f'"{term}"' for term in terms[:max_terms])


def search_kb(query: str, limit: int = 3) -> list[dict[str, Any]]:
    """Articles ranked by bm25 (best first), with a snippet of the body."""
    match = fts_query(query)
    if not match:
        return []
    with _lock:
        rows = list(_database()["articles"].search(match, limit=limit, include_rank=True))
    return [{"id": r["id"], "title": r["title"], "category": r["category"],
             "score": round(-r["rank"], 3), "snippet": r["body"][:160]} for r in rows]


def _error(tool: str, problem: str) -> str:
    # Tools never raise at the agent: a clear message lets it fix the call and try again.
    return f"ERROR from {tool}: {problem}"


def _validate(model: type[BaseModel], tool: str, **kwargs: Any) -> BaseModel | str:
    try:
        return model(**kwargs)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors())
        return _error(tool, f"invalid input ({problems})")


class KBSearchInput(BaseModel):
    query: str = Field(..., min_length=2, max_length=2000, description="Words describing the problem")
    limit: int = Field(3, ge=1, le=10, description="How many articles to return")


class KBSearchTool(BaseTool):
    name: str = "kb_search"
    description: str = ("Search the help-centre knowledge base. Returns the best-matching articles "
                        "(id, title, category, bm25 score, snippet), best first.")
    args_schema: type[BaseModel] = KBSearchInput

    def _run(self, query: str = "", limit: int = 3, **_: Any) -> str:
        args = _validate(KBSearchInput, self.name, query=query, limit=limit)
        if isinstance(args, str):
            return args
        hits = search_kb(args.query, args.limit)
        if not hits:
            return _error(self.name, "no article matches; use other words from the message")
        return json.dumps({"articles": hits})


class TextInput(BaseModel):
    text: str = Field(..., min_length=1, max_length=8000, description="The customer's message")


# Escalation signals a sentiment score cannot see: a polite letter before action is neutral text.
SIGNALS = {
    "legal_threat": r"\b(solicitor|lawyer|attorney|court|legal action|letter before action|proceedings|sue)\b",
    "regulator_or_press": r"\b(ico|ombudsman|trading standards|regulator|journalist|press|newspaper)\b",
    "safety": r"\b(fire|smok\w*|burn\w*|scorch\w*|injur\w*|electric shock|overheat\w*|explod\w*)\b",
    "fraud_in_progress": r"\b(didn'?t make|did not place|not me|hacked|someone changed)\b",
}


class SentimentTool(BaseTool):
    name: str = "sentiment_analysis"
    description: str = ("Measure the customer's sentiment (VADER compound score -1..1 with a label) "
                        "and flag escalation signals: legal threat, regulator/press, safety, fraud.")
    args_schema: type[BaseModel] = TextInput

    def _run(self, text: str = "", **_: Any) -> str:
        args = _validate(TextInput, self.name, text=text)
        if isinstance(args, str):
            return args
        scores = _analyzer().polarity_scores(args.text)
        compound = scores["compound"]
        label = "negative" if compound <= -0.05 else "positive" if compound >= 0.05 else "neutral"
        lowered = args.text.lower()
        signals = [name for name, pattern in SIGNALS.items() if re.search(pattern, lowered)]
        return json.dumps({"compound": compound, "label": label, "neg": scores["neg"],
                           "pos": scores["pos"], "signals": signals,
                           "shouting": sum(w.isupper() and len(w) > 2 for w in args.text.split()) >= 2})


_vader = None


def _analyzer():
    global _vader
    if _vader is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _vader = SentimentIntensityAnalyzer()
    return _vader


class CategorizeTool(BaseTool):
    name: str = "categorize_ticket"
    description: str = ("Suggest a ticket category and owning team: a rank-weighted vote of the "
                        "categories of the top knowledge-base matches for the message.")
    args_schema: type[BaseModel] = TextInput

    def _run(self, text: str = "", **_: Any) -> str:
        args = _validate(TextInput, self.name, text=text)
        if isinstance(args, str):
            return args
        hits = search_kb(args.text, limit=5)
        if not hits:
            return _error(self.name, "the message shares no words with any KB article")
        votes: dict[str, float] = {}
        for position, hit in enumerate(hits):
            votes[hit["category"]] = votes.get(hit["category"], 0.0) + 1.0 / (position + 1)
        ranked = sorted(votes.items(), key=lambda item: -item[1])
        total = sum(votes.values())
        teams = routing()
        return json.dumps({"candidates": [
            {"category": cat, "team": teams[cat], "confidence": round(v / total, 2)} for cat, v in ranked
        ], "top_article": hits[0]["id"]})


class RefundInput(BaseModel):
    reason: str = Field(..., min_length=3, max_length=4000,
                        description="Why the customer is owed money, in their words")
    amount_gbp: float = Field(0.0, ge=0, le=10_000, description="Amount to refund in GBP (0 = the disputed charge)")
    order_id: str | None = Field(None, max_length=40, description="Order or invoice reference, if known")


class IssueRefundTool(BaseTool):
    """The scenario's one destructive tool (permission execute, destructive in scenario.yaml):
    a governance policy holds it for approval. It moves no money: the refund is a record in
    this process, so a run can show an approval card without side effects outside it."""

    name: str = "issue_refund"
    description: str = ("Issue a refund to the customer (irreversible: money leaves the company). "
                        "Give the reason, the amount in GBP and the order id if known.")
    args_schema: type[BaseModel] = RefundInput

    def _run(self, reason: str = "", amount_gbp: float = 0.0, order_id: str | None = None, **_: Any) -> str:
        args = _validate(RefundInput, self.name, reason=reason, amount_gbp=amount_gbp, order_id=order_id)
        if isinstance(args, str):
            return args
        with _lock:
            _refunds.append({"reason": args.reason[:200], "amount_gbp": args.amount_gbp, "order_id": args.order_id})
            refund_id = f"RF-{len(_refunds):05d}"
        return json.dumps({"refund_id": refund_id, "status": "issued", "amount_gbp": args.amount_gbp,
                           "order_id": args.order_id, "note": "simulated refund: no payment system was called"})


_refunds: list[dict[str, Any]] = []
