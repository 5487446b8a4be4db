"""Who may do what: the access rules the CTI and the recordings features both apply.

Each rule is a pure function of the principal (from its token) and facts about the target that
the caller looked up (the recording's agent and team, the agent's team, the call's channel). An
unknown fact (``None``) never grants access: a team leader is refused a recording whose team is
not known, rather than shown it.
"""

from __future__ import annotations

from hotline.auth.model import AGENT, ALL_RECORDINGS, TEAM_LEADER, Principal, interface_of, same_name


def _same_team(principal: Principal, team: str | None) -> bool:
    return same_name(principal.team, team)


def can_listen(principal: Principal, recording_agent: str | None, recording_team: str | None) -> bool:
    """May ``principal`` search, listen to, download or export this recording?

    QC, QA and admins: every recording. Team leaders: recordings of their own team's agents.
    Agents: never (not even their own calls; they are reviewed, they do not review).
    ``recording_agent`` is part of the signature so a rule per agent can be added without
    changing callers; today the team decides.
    """
    if principal.role in ALL_RECORDINGS:
        return True
    if principal.role == TEAM_LEADER:
        return recording_agent is not None and _same_team(principal, recording_team)
    return False


def can_see_agent(principal: Principal, agent: str, agent_team: str | None = None) -> bool:
    """May ``principal`` see this agent's state, current call and events?

    Everyone sees themselves; team leaders see their team's agents; QC, QA and admins see all;
    an agent sees nobody else.
    """
    if agent and agent.strip().lower() == principal.username:
        return True
    if principal.role in ALL_RECORDINGS:
        return True
    if principal.role == TEAM_LEADER:
        return _same_team(principal, agent_team)
    return False


def can_control_call(principal: Principal, call_iface: str | None, call_pbx: str | None = None) -> bool:
    """May ``principal`` hang up, hold, transfer or otherwise act on the call at ``call_iface``?

    Only the person whose phone it is: ``call_iface`` (an interface ``PJSIP/1001`` or a channel
    ``PJSIP/1001-0000001a``) must be the principal's own interface. Supervisors do not act on
    agents' calls through this API. When both the token and the call name a PBX they must agree,
    because the two sites may each have an extension 1001.
    """
    if principal.role not in (AGENT, TEAM_LEADER) or not principal.iface or not call_iface:
        return False
    # PBX names are exact, as in the configuration's [[pbx]] entries.
    if principal.pbx is not None and call_pbx is not None and principal.pbx != call_pbx:
        return False
    return interface_of(call_iface) == interface_of(principal.iface)
