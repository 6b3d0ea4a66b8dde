"""PII redaction keeps CrewAI's prompt structure: spaCy tags "Action Input" as a person, and a
redacted ReAct label or tool name leaves the agent unable to call its tools."""

import pytest

pytest.importorskip("presidio_analyzer")

from crewbench.governance.pii import Vault, engine, name_detection

REACT_PROMPT = (
    "Thought: you should always think about what to do\n"
    "Action: the action to take, only one name of [read_file, write_notes], just the name.\n"
    "Action Input: the input to the action\n"
    "Tool Name: write_notes\nTool Arguments: {}\nTool Description: Write notes\n"
    "The customer John Smith wrote from john.smith@example.com."
)


@pytest.mark.skipif(not name_detection(), reason="no spaCy NER model installed")
def test_react_labels_and_tool_names_survive_redaction_while_the_name_does_not():
    redacted = engine().redact(REACT_PROMPT, Vault(), ["PERSON", "EMAIL_ADDRESS"], 0.35)
    for label in ("Thought:", "Action:", "Action Input:", "Tool Name: write_notes",
                  "Tool Arguments:", "Tool Description:", "read_file, write_notes"):
        assert label in redacted
    assert "John Smith" not in redacted
    assert "john.smith@example.com" not in redacted
