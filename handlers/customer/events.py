"""Customer event handler: other aggregates' events from EventBridge become Customer commands."""

from hotcore.entrypoints.events import EventFunction

handler = EventFunction("customer")
