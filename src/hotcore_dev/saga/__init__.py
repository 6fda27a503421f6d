"""Sagas: Amazon States Language definitions and a local executor for them."""
