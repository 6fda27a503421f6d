"""Customer query handler: AppSync queries (load + fold, read only)."""

from hotcore.entrypoints.query import QueryFunction

handler = QueryFunction("customer")
