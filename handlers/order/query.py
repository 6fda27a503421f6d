"""Order query handler: AppSync queries (load + fold, read only)."""

from hotcore.runtime.functions import QueryFunction

handler = QueryFunction("order")
