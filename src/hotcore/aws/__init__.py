"""A minimal AWS client for Lambda: credentials, SigV4, keep-alive HTTPS, DynamoDB, EventBridge."""
