"""The event bus: the EventBridge event-pattern matcher and an in-process bus for local runs."""
