"""Shared set-up for the governance tests: a throw-away workspace with a test-only scenario.

``gov_triage`` is mini_triage plus an echoing lookup tool (so tool results carry what the model
sent) and a destructive write tool (so approvals can be exercised); it is never shipped.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from crewbench.definitions.workspace import Workspace
from crewbench.definitions.yamlio import dump_yaml, load_yaml_file
from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.store.store import Store

MAIN = Path(__file__).resolve().parents[1]

EXTRA_TOOLS = '''

class EchoInput(BaseModel):
    text: str = Field(..., min_length=1, max_length=4000)


class CustomerLookupTool(BaseTool):
    name: str = "customer_lookup"
    description: str = "Find the customer record a message refers to."
    args_schema: type[BaseModel] = EchoInput

    def _run(self, text: str) -> str:
        return "record for message: " + text


class DeleteTicketTool(BaseTool):
    name: str = "delete_ticket"
    description: str = "Delete the duplicate ticket a message refers to."
    args_schema: type[BaseModel] = EchoInput

    def _run(self, text: str) -> str:
        from pathlib import Path

        with open(Path(__file__).with_name("deleted.log"), "a", encoding="utf-8") as handle:
            handle.write(text.replace("\\n", " ") + "\\n")
        return "deleted"
'''

# Seeded PII: e-mail, phones, Luhn-valid cards, IBANs, US SSNs, UK NINOs.
EMAILS = [f"customer{i}.name@example{i % 7}.org" for i in range(60)]
PHONES = ["+1 415-555-0132", "(212) 555-0187", "+44 20 7946 0958", "020 7946 0018", "+1 646 555 0199"]
CARDS = ["4111 1111 1111 1111", "5500 0000 0000 0004", "3400 0000 0000 009", "4012888888881881"]
IBANS = ["GB82 WEST 1234 5698 7654 32", "DE89 3704 0044 0532 0130 00", "FR14 2004 1010 0505 0001 3M02 606"]
SSNS = ["536-22-8726", "219-09-9999", "457-55-5462"]
NINOS = ["AB123456C", "JG103759A"]


def seeded_cases(count: int = 54) -> tuple[list[dict], list[str]]:
    base = load_yaml_file(MAIN / "scenarios" / "mini_triage" / "cases.yaml")
    cases, secrets = [], []
    for index in range(count):
        template = base[index % len(base)]
        email = EMAILS[index]
        phone = PHONES[index % len(PHONES)]
        extra = [CARDS[index % len(CARDS)], IBANS[index % len(IBANS)], SSNS[index % len(SSNS)],
                 NINOS[index % len(NINOS)]][index % 4]
        message = (f"{template['input']['message']} Reach me at {email} or {phone}. "
                   f"Reference on file: {extra}.")
        cases.append({"id": f"pii-{index:02d}", "input": {"message": message},
                      "expected": template["expected"], "difficulty": template.get("difficulty", "medium")})
        secrets += [email, phone, extra]
    return cases, sorted(set(secrets))


def make_workspace(tmp_path: Path, *, cases: list[dict] | None = None, output_schema: dict | None = None,
                   policies: dict[str, dict] | None = None) -> Workspace:
    root = tmp_path / "ws"
    folder = root / "scenarios" / "gov_triage"
    shutil.copytree(MAIN / "scenarios" / "mini_triage", folder)
    (folder / "tools.py").write_text((folder / "tools.py").read_text() + EXTRA_TOOLS)
    data = load_yaml_file(folder / "scenario.yaml")
    data["name"] = "gov_triage"
    data["tools"] += [
        {"name": "customer_lookup", "entry": "tools.py:CustomerLookupTool", "permission": "read",
         "destructive": False, "description": "Echoes the message back as a record."},
        {"name": "delete_ticket", "entry": "tools.py:DeleteTicketTool", "permission": "write",
         "destructive": True, "description": "Deletes a ticket."},
    ]
    if output_schema is not None:
        data["output_schema"] = output_schema
    (folder / "scenario.yaml").write_text(dump_yaml(data))
    if cases is not None:
        (folder / "cases.yaml").write_text(dump_yaml(cases))
    for sub in ("roles", "crews", "policies"):
        (root / sub).mkdir(exist_ok=True)
    for name, body in (policies or {}).items():
        (root / "policies" / f"{name}.yaml").write_text(dump_yaml(body))
    return Workspace(root)


def agent(role: str, tools: list[str], permissions: list[str], **extra) -> dict:
    return {"role": role, "goal": f"Do the {role} work well.", "backstory": f"An experienced {role}.",
            "tools": tools, "allow_delegation": False, "max_iter": 6,
            "crewbench": {"permissions": permissions}, **extra}


TICKET = 'JSON {"team": ..., "priority": ...}'


def single_crew(ws: Workspace, tools: list[str], permissions: list[str], name: str = "gov_single"):
    return ws.parse_crew({
        "name": name, "scenario": "gov_triage", "process": "sequential",
        "agents": {"clerk": agent("Support Clerk", tools, permissions)},
        "tasks": [{"name": "ticket", "description": "Route this message and rate its urgency: {message}",
                   "expected_output": TICKET, "agent": "clerk"}],
    })


def multi_crew(ws: Workspace, name: str = "gov_multi"):
    return ws.parse_crew({
        "name": name, "scenario": "gov_triage", "process": "hierarchical", "manager_agent": "lead",
        "agents": {
            "lead": agent("Support Lead", [], ["read"], allow_delegation=True),
            "router": agent("Support Router", ["team_directory", "customer_lookup"], ["read"]),
            "urgency": agent("Urgency Assessor", ["urgency_check"], ["read"]),
        },
        "tasks": [
            {"name": "route", "description": "Which team should handle this message: {message}",
             "expected_output": "The team.", "agent": "router"},
            {"name": "ticket", "description": "Final ticket with urgency for: {message}",
             "expected_output": TICKET, "agent": "urgency", "context": ["route"]},
        ],
    })


def run(ws: Workspace, store: Store, crews, *, policy="production", reps=1, concurrency=2, **extra) -> str:
    config = ExperimentConfig(crews=crews, reps=reps, latency_scale=0, sim_overrides={"transient_rate": 0},
                              policy=policy, backoff_s=0, concurrency=concurrency, timeout_s=120, **extra)
    return run_experiment(config, store=store, workspace=ws)


def run_in_background(ws, store, crews, **kwargs):
    result: dict = {}

    def work():
        try:
            result["experiment_id"] = run(ws, store, crews, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the test
            result["error"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread, result


def decisions(store: Store, **where) -> list[dict]:
    clauses = " and ".join(f"{key} = ?" for key in where) or "1 = 1"
    return list(store.db.query(f"select * from policy_decisions where {clauses} order by at", list(where.values())))


def deleted(ws: Workspace) -> list[str]:
    path = ws.scenarios_dir / "gov_triage" / "deleted.log"
    return path.read_text().splitlines() if path.exists() else []
