"""The role permission matrix and the fail-closed tool check.

Each role holds permission levels (``crewbench.permissions`` in its YAML: read / write /
execute) and an explicit tool inventory (its ``tools`` list). Each tool declares the level it
needs, whether it is destructive and whether it reaches the network (``tools:`` in
scenario.yaml; library tools take theirs from definitions/library_tools.py, where a network
tool needs execute). A call is allowed only when
the tool is in the calling role's inventory *and* the role holds the tool's level; a
destructive call then still needs approval (see approvals.py).

CrewAI swallows any exception a tool hook raises and runs the tool anyway (hooks fail open),
so ``check_tool_call`` never lets an exception out: a failure inside the policy code is a
``blocked`` decision with rule ``policy_error``.
"""

from __future__ import annotations

from dataclasses import dataclass

from crewbench.compat.crewai_compat import COWORKER_TOOLS
from crewbench.definitions.config import role_key

__all__ = ["DELEGATION_TOOLS", "ToolVerdict", "check_tool_call", "matrix", "role_for_agent"]

# CrewAI's built-in coworker tools: a handoff, allowed to agents CrewAI gave them to.
DELEGATION_TOOLS = COWORKER_TOOLS


@dataclass(frozen=True)
class ToolVerdict:
    action: str            # allowed | blocked | approval
    rule: str
    reason: str
    level: str | None = None
    destructive: bool = False
    network: bool = False




def role_for_agent(crew, agent_role: str | None):
    """The crew's RoleSpec whose CrewAI role matches the calling agent, else None."""
    return crew.agent_for_role(agent_role)[1]


def matrix(crew, tools: dict) -> list[dict]:
    """The crew's permission matrix: one row per role with its levels and tool inventory."""
    rows = []
    for name, role in crew.agents.items():
        inventory = []
        for tool in role.tools:
            decl = tools.get(tool)
            inventory.append({"tool": tool, "level": getattr(decl, "permission", None),
                              "destructive": bool(getattr(decl, "destructive", False)),
                              "network": bool(getattr(decl, "network", False)),
                              "allowed": decl is not None and decl.permission in role.permissions})
        rows.append({"agent": name, "role": role.role, "permissions": list(role.permissions),
                     "tools": inventory, "manager": name == crew.manager_agent})
    return rows


def check_tool_call(crew, tools: dict, agent_role: str | None, tool_name: str,
                    undeclared_level: str = "execute") -> ToolVerdict:
    """Decide one call. Any exception in here is a block, never an allow."""
    try:
        return _check(crew, tools, agent_role, tool_name, undeclared_level)
    except Exception as exc:  # noqa: BLE001 - fail closed: a policy bug must deny
        return ToolVerdict("blocked", "policy_error", f"policy check failed ({type(exc).__name__}: {exc}); denied")


def _check(crew, tools, agent_role, tool_name, undeclared_level) -> ToolVerdict:
    role = role_for_agent(crew, agent_role)
    if role is None:
        return ToolVerdict("blocked", "tools.unknown_agent",
                           f"agent {agent_role!r} is not a role of crew {crew.name}; no permissions")
    name = role_key(tool_name).replace(" ", "_")
    if name in DELEGATION_TOOLS:
        is_manager = crew.manager_agent is not None and crew.agents[crew.manager_agent] is role
        if is_manager or role.agent.get("allow_delegation"):
            return ToolVerdict("allowed", "tools.delegation", "handoff to a coworker", level="read")
        return ToolVerdict("blocked", "tools.delegation",
                           f"role {role.name} may not delegate (allow_delegation is false)")
    inventory = {role_key(t).replace(" ", "_"): t for t in role.tools}
    if name not in inventory:
        return ToolVerdict("blocked", "tools.inventory",
                           f"tool {tool_name!r} is not in role {role.name}'s tool inventory")
    decl = tools.get(inventory[name])
    level = decl.permission if decl is not None else undeclared_level
    # An undeclared tool (an import reference such as crewai_tools:X) is assumed to need the
    # policy's undeclared_level (execute by default) but is not assumed destructive.
    destructive = bool(getattr(decl, "destructive", False))
    network = bool(getattr(decl, "network", False))
    if level not in role.permissions:
        return ToolVerdict("blocked", "tools.permission_matrix",
                           f"role {role.name} holds {'/'.join(role.permissions) or 'no'} permission; "
                           f"tool {tool_name} needs {level}" + (" (it reaches the network)" if network else ""),
                           level=level, destructive=destructive, network=network)
    if destructive:
        return ToolVerdict("approval", "tools.destructive", f"tool {tool_name} is destructive; needs approval",
                           level=level, destructive=True, network=network)
    return ToolVerdict("allowed", "tools.permission_matrix", f"role {role.name} holds {level}", level=level,
                       network=network)
