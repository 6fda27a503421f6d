"""DynamoDB attribute-value codec and the raw DynamoDB-JSON to contracts decoder."""
