"""Short arm names: the crew name when unique, else what tells the arms apart (issue 14 item 8)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from crewbench.measure.labels import short_names


def arm(crew, experiment_id="e1234567890", experiment_name="x+y on mini_triage"):
    return SimpleNamespace(crew_name=crew, label=f"{experiment_name}:{crew}",
                           experiment_id=experiment_id, experiment_name=experiment_name)


@pytest.mark.parametrize("arms,expected", [
    ([arm("seq"), arm("seq_baseline")], ["seq", "seq_baseline"]),
    # the same crew in two experiments with short names given by the user
    ([arm("seq", "aaaa1111x", "before"), arm("seq", "bbbb2222x", "after")], ["seq (before)", "seq (after)"]),
    # generated names are long and shared: the id prefix tells them apart
    ([arm("seq", "aaaa1111x"), arm("seq", "bbbb2222x"), arm("seq_baseline", "aaaa1111x")],
     ["seq (aaaa1111)", "seq (bbbb2222)", "seq_baseline"]),
    ([], []),
])
def test_short_names(arms, expected):
    assert short_names(arms) == expected


def test_short_names_fall_back_to_the_label_without_a_crew_name():
    nameless = SimpleNamespace(crew_name=None, label="exp:?", experiment_id="e", experiment_name="exp")
    assert short_names([nameless]) == ["exp:?"]
