"""Who a command is sent by, as the authorization policies see it.

A ``Principal`` is data the entry points build from what they verified: the end user's
subject and groups (from a signed ID token), the front-end server's IAM role that called
AppSync, or a system caller (a saga's state machine, an event handler) that reached the
command function by direct invocation, which only IAM roles of the deployment may do.
The policies beside each aggregate's ``decide`` read it; nothing here does I/O.
"""

from __future__ import annotations

from msgspec import Struct

from hotcore.contracts.common import Rejected

#: The rule of every authorization refusal; ``data["policy"]`` names the policy that refused.
FORBIDDEN = "forbidden"
#: The group of back-office staff (stock, shipping, customer support).
BACK_OFFICE = "back-office"
#: Longest subject, group or caller name kept (the envelope's actor is at most 500 chars).
MAX_NAME = 128


class Principal(Struct, frozen=True, kw_only=True):
    """The sender of a command.

    ``subject`` is the end user's id (the ID token's ``sub``: a customer's id), empty when
    the server sent no user token; ``groups`` the user's groups; ``caller`` the calling
    front-end server's IAM role name; ``system`` the name of a system caller (for example
    ``saga:place-order``), empty for end users.
    """

    subject: str = ""
    groups: frozenset[str] = frozenset()
    caller: str = ""
    system: str = ""

    @property
    def is_system(self) -> bool:
        return bool(self.system)

    @property
    def actor(self) -> str:
        """What the envelope records as the actor: a system caller's name, ``user:<subject>
        via <server role>``, or ``server:<role>`` when no user was named."""
        if self.system:
            return self.system[:MAX_NAME]
        via = f" via {self.caller[:MAX_NAME]}" if self.caller else ""
        if self.subject:
            return f"user:{self.subject[:MAX_NAME]}{via}"
        return f"server:{self.caller[:MAX_NAME] or 'anonymous'}"

    def is_back_office(self) -> bool:
        return BACK_OFFICE in self.groups


def system(name: str) -> Principal:
    """A system caller: a saga, an event handler, a tool run by the operators."""
    return Principal(system=name or "direct")


#: What in-process callers (tests, tools, the demo's setup) act as when they name no one.
LOCAL_SYSTEM = system("local")


def forbidden(policy: str, message: str, **data: str | int | bool | None) -> Rejected:
    """The refusal of an authorization policy: rule ``forbidden``, the policy in ``data``."""
    return Rejected(rule=FORBIDDEN, message=message, data={"policy": policy, **data})


def internal_command(command: str) -> Rejected:
    return forbidden(
        "internal-command",
        f"{command} is sent only by the system (sagas and event handlers)",
        command=command,
    )


def only_back_office(principal: Principal, command: str) -> Rejected | None:
    if principal.is_back_office():
        return None
    return forbidden(
        "back-office-only", f"only back-office staff may {command}", subject=principal.subject
    )


def self_or_back_office(
    principal: Principal, policy: str, who: str, message: str
) -> Rejected | None:
    """``only_self``, except that back-office staff pass: the read rule of what belongs
    to one customer (their account, their record, their orders)."""
    if principal.is_back_office():
        return None
    return only_self(principal, policy, who, message)


def only_self(principal: Principal, policy: str, who: str, message: str) -> Rejected | None:
    """Refused (with ``message``) unless the end user is ``who``: a customer acting for
    themself. The refusal does not say who ``who`` is."""
    if principal.subject and principal.subject == who:
        return None
    return forbidden(policy, message, subject=principal.subject)
