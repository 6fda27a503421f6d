"""The bare python3.13 runtime's cold start: a handler that imports nothing."""


def handler(event: object, context: object) -> dict[str, str]:
    return {"message": "hello"}
