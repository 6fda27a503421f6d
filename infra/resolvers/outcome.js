// Not a resolver: appended to the resolvers that name it in an "// include: outcome.js"
// line (infra.stacks.common.resolver_code), which import `util`. An aggregate function's
// answer as GraphQL: "rejected" becomes an error whose errorType is the domain rule
// (errorInfo carries rule and data), "invalid" a BadRequest, "error" (the function could
// not serve it: Unavailable, StreamUnreadable, InternalFailure) an error of that type
// (errorInfo carries the command id to send again under); anything else is returned.
function answered(ctx) {
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
  if (result && result.outcome === 'error') {
    util.error(result.message, result.error, null, { commandId: result.command_id ?? null });
  }
  return result;
}
