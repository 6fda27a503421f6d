// Resolver of every Mutation and Query field served by an aggregate's Lambda function.
// The request passes the fields the function reads (hotcore.entrypoints.appsync.AppSyncEvent);
// the response turns the function's outcome into GraphQL (outcome.js: a rejection is an
// error whose errorType is the domain rule).
// Of the request's headers only the end user's ID token goes to the function (never the
// server's signature headers): hotcore.entrypoints.identity verifies it.
import { util } from '@aws-appsync/utils';

const TOKEN_HEADER = 'x-hotcore-id-token';

export function request(ctx) {
  const payload = {
    arguments: ctx.arguments,
    identity: ctx.identity ?? null,
    info: {
      fieldName: ctx.info.fieldName,
      parentTypeName: ctx.info.parentTypeName,
      variables: ctx.info.variables ?? {},
    },
  };
  const token = ctx.request?.headers?.[TOKEN_HEADER];
  if (token) {
    payload.request = { headers: { [TOKEN_HEADER]: token } };
  }
  return { operation: 'Invoke', payload };
}

export function response(ctx) {
  return answered(ctx);
}

// include: outcome.js
