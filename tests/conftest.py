"""Shared fixtures. Adapter-specific store fixtures live next to their test modules."""
