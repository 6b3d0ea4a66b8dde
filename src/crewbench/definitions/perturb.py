"""Production-like variants of a case: the inputs real users send, not the ones we wrote.

``perturb(case, kind, seed)`` returns a copy of the case with one perturbation applied and
``case.variant`` set to the kind; ``variants(case, kinds, seed)`` makes several. Everything is
deterministic per (seed, case id, kind): ``random.Random(f"{seed}:{case.id}:{kind}")``.

Kinds:

* ``paraphrase`` — a rule-based rewrite without a model: words and phrases from a fixed
  synonym table are swapped (each with probability 0.7), and two adjacent sentences after the
  first change places. Meaning is preserved; wording and order are not.
* ``typos`` — about one word in ten (of four letters or more, never one with a digit) gets a
  keyboard slip: adjacent letters swapped, a letter dropped or doubled, or a neighbouring key.
* ``noise`` — irrelevant text around the request: a forwarded header, a signature, a legal
  footer, small talk.
* ``missing_field`` — an optional input field is dropped (not a required one, not the main
  text); with none to drop, one sentence of the main text is blanked out.
* ``tool_failure`` — the inputs are untouched; ``case.meta["inject_tool_failure"]`` names a
  tool (the scenario's first declared tool) and the runner makes it fail once.

``tools`` and ``required`` (the scenario's tool names and required input keys) may be passed;
when they are not, they are looked up from the workspace scenario that holds the case id.

Only free text is perturbed: a diff, an id (``*_id``) or anything that looks like code is left
alone, since a real user's typo does not land inside a patch.
"""

from __future__ import annotations

import copy
import random
import re
from typing import Any

from crewbench.definitions.limits import short_repr
from crewbench.definitions.scenario import Case
from crewbench.errors import RunnerError

__all__ = ["KINDS", "UnknownPerturbation", "perturb", "variants"]


class UnknownPerturbation(RunnerError, ValueError):
    """A variant name that is not a perturbation kind (``--variants bogus``)."""

KINDS = ("paraphrase", "typos", "noise", "missing_field", "tool_failure")

# Phrase -> replacements, chosen to keep the meaning in support, research and review text.
SYNONYMS: dict[str, list[str]] = {
    "please": ["kindly", "if you could"], "help": ["assist", "support"], "order": ["purchase"],
    "refund": ["reimbursement", "money back"], "charged": ["billed"], "twice": ["two times"],
    "broken": ["damaged", "faulty"], "arrived": ["turned up", "came"], "received": ["got"],
    "problem": ["issue", "trouble"], "issue": ["problem"], "quickly": ["fast", "promptly"],
    "urgent": ["pressing", "time-critical"], "cannot": ["can't", "am unable to"],
    "can't": ["cannot", "am not able to"], "still": ["yet"], "since": ["from"],
    "want": ["would like"], "need": ["require"], "buy": ["purchase"], "bought": ["purchased"],
    "return": ["send back"], "delivery": ["shipment"], "parcel": ["package"],
    "package": ["parcel"], "account": ["profile"], "email": ["e-mail", "mail"],
    "customer": ["client"], "money": ["funds"], "angry": ["furious", "upset"],
    "how": ["in what way"], "what": ["which"], "show": ["indicate"], "rise": ["increase"],
    "rose": ["increased", "went up"], "fell": ["dropped", "decreased"], "compare": ["contrast"],
    "summarise": ["sum up", "give an overview of"], "evidence": ["proof", "data"],
    "council": ["local authority"], "residents": ["locals", "inhabitants"],
    "should": ["ought to"], "improving": ["getting better"], "big": ["large"],
    "adds": ["introduces"], "fix": ["correct"], "use": ["make use of"], "small": ["minor"],
    "new": ["fresh"], "change": ["modification"], "support": ["back"], "asked": ["requested"],
    "get": ["obtain"], "tell": ["inform"], "know": ["be aware"], "thanks": ["thank you", "cheers"],
    "hi": ["hello", "hey"], "hello": ["hi"], "going down": ["decreasing"], "how much": ["what amount"],
}
NEIGHBOUR_KEYS = {
    "a": "sqwz", "b": "vghn", "c": "xdfv", "d": "serfcx", "e": "wsdr", "f": "drtgvc", "g": "ftyhbv",
    "h": "gyujnb", "i": "ujko", "j": "huikmn", "k": "jiolm", "l": "kop", "m": "njk", "n": "bhjm",
    "o": "iklp", "p": "ol", "q": "wa", "r": "edft", "s": "awedxz", "t": "rfgy", "u": "yhji",
    "v": "cfgb", "w": "qase", "x": "zsdc", "y": "tghu", "z": "asx",
}
NOISE = [
    ("---------- Forwarded message ---------\nFrom: Front desk <frontdesk@example.org>\n"
    "Subject: FW: see below\n\nForwarding this on, not sure who handles it.\n"),
    "\n\nSent from my iPhone",
    ("\n\n--\nThis e-mail and any attachments are confidential and intended solely for the "
    "addressee. If you have received it in error please notify the sender and delete it. "
    "Views expressed are those of the author and not necessarily of the company."),
    "Hope you had a good weekend! The weather here has been awful, rain every day. Anyway, ",
    "\n\nP.S. Unrelated, but is your office closed on the bank holiday Monday?",
    "(Apologies if this is the wrong place to ask, the website search wasn't much help.) ",
    ("\n\nKind regards,\nJ. Marlow\nOperations Coordinator | Northfield Logistics Ltd\n"
    "Tel: 01632 960 381 | Unit 4, Canal Side Business Park"),
]
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")


def _is_free_text(key: str, value: Any) -> bool:
    if not isinstance(value, str) or not value.strip() or key.endswith("_id") or key == "id":
        return False
    return not (value.startswith(("diff --git", "--- ")) or "\n@@ " in value)


def _main_key(case: Case) -> str | None:
    keys = [k for k, v in case.input.items() if _is_free_text(k, v)]
    return max(keys, key=lambda k: len(case.input[k])) if keys else None


def _match_case(word: str, replacement: str) -> str:
    if word.isupper() and len(word) > 1:
        return replacement.upper()
    if word[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _paraphrase(text: str, rng: random.Random) -> str:
    # Longest phrases first, so "how much" is replaced before "how".
    for phrase in sorted(SYNONYMS, key=len, reverse=True):
        pattern = re.compile(rf"\b{re.escape(phrase)}\b", re.IGNORECASE)

        def swap(match: re.Match, phrase: str = phrase) -> str:
            if rng.random() >= 0.7:
                return match.group(0)
            return _match_case(match.group(0), rng.choice(SYNONYMS[phrase]))

        text = pattern.sub(swap, text)
    sentences = SENTENCE.split(text.strip())
    if len(sentences) >= 3:
        # Keep the opening sentence (greetings and the main ask usually live there).
        i = rng.randrange(1, len(sentences) - 1)
        sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
    return " ".join(sentences)


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["swap", "drop", "double", "neighbour"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    near = NEIGHBOUR_KEYS.get(word[i].lower())
    return word[:i] + (rng.choice(near) if near else word[i]) + word[i + 1:]


def _typos(text: str, rng: random.Random, rate: float = 0.1) -> str:
    def maybe(match: re.Match) -> str:
        word = match.group(0)
        return _typo(word, rng) if rng.random() < rate else word

    changed = re.sub(r"\b[A-Za-z]{4,}\b", maybe, text)
    if changed == text:  # always at least one slip, or the variant equals the clean case
        words = list(re.finditer(r"\b[A-Za-z]{4,}\b", text))
        if words:
            pick = rng.choice(words)
            changed = text[:pick.start()] + _typo(pick.group(0), rng) + text[pick.end():]
    return changed


def _noise(text: str, rng: random.Random) -> str:
    snippet = rng.choice(NOISE)
    if snippet.startswith("\n"):
        return text.rstrip() + snippet
    return snippet + text


def _blank_sentence(text: str, rng: random.Random) -> str:
    sentences = SENTENCE.split(text.strip())
    if len(sentences) < 2:
        words = text.split()
        keep = max(3, len(words) * 2 // 3)
        return " ".join(words[:keep]) + " ..."
    del sentences[rng.randrange(1, len(sentences))]
    return " ".join(sentences)


_scenario_cache: dict[str, Any] = {}


def _scenario_of(case: Case):
    """The workspace scenario holding this case id (a Case does not know its scenario)."""
    if case.id in _scenario_cache:
        return _scenario_cache[case.id]
    from crewbench.definitions.workspace import Workspace

    found = None
    try:
        for scenario in Workspace().scenarios().values():
            if any(c.id == case.id for c in scenario.cases()):
                found = scenario
                break
    except Exception:  # noqa: BLE001 - a broken workspace only means no defaults
        found = None
    _scenario_cache[case.id] = found
    return found


def _defaults(case: Case, tools, required) -> tuple[list[str], list[str]]:
    if tools is None or required is None:
        scenario = _scenario_of(case)
        if tools is None:
            tools = list(case.meta.get("tools") or (scenario.tools if scenario else []))
        if required is None:
            required = list(scenario.input_schema.get("required", [])) if scenario else []
    return list(tools), list(required)


def perturb(case: Case, kind: str, seed: int = 0, *, tools: list[str] | None = None,
            required: list[str] | None = None) -> Case:
    """A copy of ``case`` with one perturbation. ``tools``: the scenario's tool names (for
    tool_failure); ``required``: input keys that must never be dropped (for missing_field)."""
    if kind not in KINDS:
        raise UnknownPerturbation(f"unknown perturbation {short_repr(kind)}; use clean or any of "
                                  f"{', '.join(KINDS)} in --variants")
    rng = random.Random(f"{seed}:{case.id}:{kind}")
    result = copy.deepcopy(case)
    result.variant = kind
    result.tags = [*result.tags, f"perturbed:{kind}"]
    main = _main_key(result)
    tools, required = _defaults(case, tools, required)
    if kind == "tool_failure":
        if tools:
            result.meta["inject_tool_failure"] = tools[0]
        return result
    if kind == "missing_field":
        keep = set(required) | {main}
        optional = sorted(k for k, v in result.input.items() if k not in keep and not _is_diff(v))
        if optional:
            dropped = rng.choice(optional)
            del result.input[dropped]
            result.meta["perturbation"] = f"dropped input field {dropped!r}"
        elif main:
            result.input[main] = _blank_sentence(result.input[main], rng)
            result.meta["perturbation"] = f"blanked part of {main!r}"
        return result
    if main is None:
        return result
    text = result.input[main]
    result.input[main] = {"paraphrase": _paraphrase, "typos": _typos, "noise": _noise}[kind](text, rng)
    result.meta["perturbation"] = f"{kind} applied to {main!r}"
    return result


def _is_diff(value: Any) -> bool:
    return isinstance(value, str) and (value.startswith("diff --git") or "\n@@ " in value)


def variants(case: Case, kinds: list[str] | tuple[str, ...], seed: int = 0, *,
             tools: list[str] | None = None, required: list[str] | None = None) -> list[Case]:
    """One perturbed copy of ``case`` per kind ('clean' is skipped: the caller has it)."""
    return [perturb(case, kind, seed, tools=tools, required=required) for kind in kinds if kind != "clean"]
