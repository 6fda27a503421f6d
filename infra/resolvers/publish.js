// Resolver of Mutation.publish (NONE data source): the EventBridge AppSync target calls it for
// every committed event, and the arguments come back unchanged as the Published value, which
// is what triggers the subscriptions.
export function request(ctx) {
  return { payload: ctx.arguments };
}

export function response(ctx) {
  return ctx.result;
}
