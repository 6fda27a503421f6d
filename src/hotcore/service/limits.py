"""What one read may ask for: the API's limits, which the AppSync adapter checks before
anything is read and the query service serves. Apart so that the command function, which
decodes every field of the API but serves no read, does not load the query service."""

from __future__ import annotations

#: Instances one batch query may ask for (AppSync's BatchInvoke default is 5; a batch query
#: is one invocation, so its size is bounded here).
MAX_BATCH = 100
#: Events per history page: the default, and the most one page may ask for.
DEFAULT_HISTORY_PAGE = 50
MAX_HISTORY_PAGE = 500
