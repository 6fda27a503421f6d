"""msgspec Structs for every contract: commands, events, queries, states and the envelope.

Not compiled by mypyc (msgspec's metaclass is not supported by mypyc); the compiled
reducers work on these through their typed attributes.
"""
