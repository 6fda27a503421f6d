"""Account event handler: other aggregates' events from EventBridge become Account commands."""

from hotcore.entrypoints.events import EventFunction

handler = EventFunction("account")
