"""Account command handler: AppSync mutations and direct invocations (Step Functions tasks)."""

from hotcore.runtime.functions import CommandFunction

handler = CommandFunction("account")
