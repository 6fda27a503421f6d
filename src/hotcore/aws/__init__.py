"""A minimal AWS client for Lambda: credentials, SigV4, keep-alive HTTPS, DynamoDB, EventBridge.

Modules, each imported on its own so a handler loads only what it uses:

- ``sigv4``: ``sign(...)`` and ``Credentials``;
- ``credentials``: ``CredentialsProvider`` (environment, then the container endpoint);
- ``config``: region and endpoint resolution (``AWS_ENDPOINT_URL_DYNAMODB`` ...);
- ``connection``: pooled keep-alive ``http.client`` connections to one endpoint;
- ``client``: ``ServiceClient``, one signed JSON-protocol call with retries;
- ``dynamodb``: ``DynamoDB`` (Query, GetItem, BatchGetItem, PutItem, TransactWriteItems);
- ``eventbridge``: ``EventBridge.put_events`` with batching and per-entry retries;
- ``errors``: ``AwsError`` and its subclasses.

boto3 is never imported here: it is the tests' oracle, not a dependency.
"""
