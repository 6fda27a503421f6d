"""Order event handler: other aggregates' events from EventBridge become Order commands."""

from hotcore.entrypoints.events import EventFunction

handler = EventFunction("order")
