"""Account command handler: AppSync mutations and direct invocations (Step Functions tasks)."""

from hotcore.entrypoints.command import CommandFunction

handler = CommandFunction("account")
