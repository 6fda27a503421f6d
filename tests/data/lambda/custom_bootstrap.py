"""A custom runtime (provided.al2023 style) written against the Runtime API by hand.

Not awslambdaric: it speaks HTTP itself over one keep-alive connection, the way a Rust
or Go bootstrap does. The event chooses the answer: ``{"fail": ...}`` posts an error,
``{"chunked": true}`` sends the response with chunked transfer encoding; anything else
is echoed with the request's headers and the process's environment.
PROBE_INIT_FAIL in the environment makes init fail through /runtime/init/error.
"""

import http.client
import json
import os
import sys

api = os.environ["AWS_LAMBDA_RUNTIME_API"]
connection = http.client.HTTPConnection(api)
base = "/2018-06-01/runtime"


def post(path, body, headers=None):
    connection.request("POST", base + path, body=body, headers=headers or {})
    response = connection.getresponse()
    response.read()
    return response.status


if os.environ.get("PROBE_INIT_FAIL"):
    document = {"errorType": "ConfigError", "errorMessage": "no table configured"}
    post(
        "/init/error",
        json.dumps(document),
        {"Lambda-Runtime-Function-Error-Type": "Runtime.ConfigError"},
    )
    sys.exit(1)

while True:
    connection.request("GET", base + "/invocation/next")
    response = connection.getresponse()
    event = json.loads(response.read())
    request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
    if "fail" in event:
        document = {"errorType": "BadThing", "errorMessage": event["fail"], "stackTrace": []}
        post(
            f"/invocation/{request_id}/error",
            json.dumps(document),
            {"Lambda-Runtime-Function-Error-Type": "Unhandled"},
        )
        continue
    answer = {
        "event": event,
        "headers": {
            name: value for name, value in response.getheaders() if name.startswith("Lambda-")
        },
        "environ": dict(os.environ),
        "argv": sys.argv,
    }
    body = json.dumps(answer).encode()
    if event.get("chunked"):
        connection.putrequest("POST", f"{base}/invocation/{request_id}/response")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        middle = len(body) // 2
        for part in (body[:middle], body[middle:]):
            connection.send(b"%x\r\n%s\r\n" % (len(part), part))
        connection.send(b"0\r\n\r\n")
        connection.getresponse().read()
    else:
        post(f"/invocation/{request_id}/response", body)
