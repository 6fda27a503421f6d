"""The event store port and its adapters: memory, SQLite (the embedded default) and DynamoDB."""
