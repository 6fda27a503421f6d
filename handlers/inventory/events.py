"""Inventory event handler: other aggregates' events from EventBridge become Inventory commands."""

from hotcore.entrypoints.events import EventFunction

handler = EventFunction("inventory")
