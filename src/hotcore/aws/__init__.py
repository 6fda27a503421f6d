"""A minimal AWS client for Lambda: credentials, SigV4, one keep-alive connection, DynamoDB and EventBridge."""
