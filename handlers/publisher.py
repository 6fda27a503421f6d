"""Publisher: an aggregate's DynamoDB Streams INSERTs become EventBridge events.

One function per event table, the same code: HOTCORE_AGGREGATE says whose table it is.
"""

from hotcore.entrypoints.publisher import PublisherFunction

handler = PublisherFunction()
