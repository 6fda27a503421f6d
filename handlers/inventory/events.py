"""Inventory event handler: other aggregates' events from EventBridge become Inventory commands."""

from hotcore.runtime.functions import EventFunction

handler = EventFunction("inventory")
