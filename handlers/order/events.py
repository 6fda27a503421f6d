"""Order event handler: other aggregates' events from EventBridge become Order commands."""

from hotcore.runtime.functions import EventFunction

handler = EventFunction("order")
