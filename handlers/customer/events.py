"""Customer event handler: other aggregates' events from EventBridge become Customer commands."""

from hotcore.runtime.functions import EventFunction

handler = EventFunction("customer")
