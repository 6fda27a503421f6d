"""Account event handler: other aggregates' events from EventBridge become Account commands."""

from hotcore.runtime.functions import EventFunction

handler = EventFunction("account")
