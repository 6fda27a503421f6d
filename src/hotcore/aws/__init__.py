"""A minimal AWS client for Lambda: credentials, SigV4, keep-alive HTTPS, DynamoDB, EventBridge.

Modules, each imported on its own so a handler loads only what it uses:

- ``sigv4``: ``sign(...)`` and ``Credentials``;
- ``credentials``: ``CredentialsProvider`` (environment, then the container endpoint);
- ``config``: region and endpoint resolution (``AWS_ENDPOINT_URL_DYNAMODB`` ...);
- ``connection``: HTTP/1.1 on sockets, pooled keep-alive connections to one endpoint;
- ``tls``: TLS with the AWS roots shipped beside it (``aws-roots.pem``), loaded for https;
- ``digest``: SHA-256 and HMAC-SHA256 on CPython's built-in ``_sha2``;
- ``client``: ``ServiceClient``, one signed JSON-protocol call with retries;
- ``dynamodb``: ``DynamoDB`` (Query, GetItem, BatchGetItem, PutItem, TransactWriteItems);
- ``eventbridge``: ``EventBridge.put_events`` with batching and per-entry retries;
- ``s3``: ``S3.put_object``, for the records the Streams publisher parks;
- ``errors``: ``AwsError`` and its subclasses.

boto3 is never imported here: it is the tests' oracle, not a dependency. Neither are
``http.client``, ``email``, ``urllib``, ``hashlib``, ``hmac`` or ``random`` (import cost:
docs/coldstart.md), and ``ssl`` only once an https connection opens.
"""
