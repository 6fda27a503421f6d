"""The stacks: ``shared_stack`` (bus, API, saga, shared storage) and one file per aggregate."""
