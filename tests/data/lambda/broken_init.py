"""A handler module whose init fails, as a function with a missing setting does."""

raise RuntimeError("HOTCORE_TABLE is not set")


def handler(event, context):  # never reached
    return event
