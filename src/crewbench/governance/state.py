"""What the governor keeps for one run while it is in flight."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from crewbench.definitions.policy import Policy
from crewbench.governance.pii import Vault

__all__ = ["RunState"]


@dataclass
class RunState:
    run_id: str
    crew: Any
    policy: Policy
    vault: Vault = field(default_factory=Vault)
    found: Counter = field(default_factory=Counter)        # detect mode: entities seen, not redacted
    escalations: list[str] = field(default_factory=list)   # held destructive calls
    lock: threading.Lock = field(default_factory=threading.Lock)
    case: Any = None                                       # the case in flight (approval cards show it)
    clean: set[str] = field(default_factory=set)           # texts the hooks' redactor produced
