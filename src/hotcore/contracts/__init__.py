"""msgspec Structs for every contract: commands, events, queries, states and the envelope.

Not compiled by mypyc (msgspec's metaclass is not supported by mypyc); the compiled
reducers work on these through their typed attributes.

No ``from __future__ import annotations`` here: msgspec reads a Struct's annotations
whenever it builds a decoder or converter for it (at init: the page decoders, AppSync's
converters; on the first request: a direct command's), and a string annotation costs a
``compile`` and an ``eval`` each time; evaluated once by the class body, it costs
nothing more. Only forward references are quoted.
"""
