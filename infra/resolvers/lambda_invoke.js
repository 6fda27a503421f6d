// Resolver of every Mutation and Query field served by an aggregate's Lambda function.
// The request passes the fields the function reads (hotcore.runtime.appsync.AppSyncEvent);
// the response turns the function's outcome into GraphQL: "rejected" becomes an error whose
// errorType is the domain rule (errorInfo carries rule and data), "invalid" a BadRequest.
import { util } from '@aws-appsync/utils';

export function request(ctx) {
  return {
    operation: 'Invoke',
    payload: {
      arguments: ctx.arguments,
      identity: ctx.identity ?? null,
      info: {
        fieldName: ctx.info.fieldName,
        parentTypeName: ctx.info.parentTypeName,
        variables: ctx.info.variables ?? {},
      },
    },
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  const result = ctx.result;
  if (result && result.outcome === 'rejected') {
    util.error(result.message, result.rule, null, { rule: result.rule, data: result.data ?? {} });
  }
  if (result && result.outcome === 'invalid') {
    util.error(result.message, 'BadRequest');
  }
  return result;
}
