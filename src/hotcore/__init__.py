"""hotcore: a serverless, event-sourced CQRS core on AWS with a compiled Python hot path."""

__version__ = "0.1.0"
