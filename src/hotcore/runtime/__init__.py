"""Storage-agnostic drivers (command, query, event handler, publisher) and their wiring."""
