// Resolver of Mutation.publish (NONE data source): the EventBridge AppSync target calls it once
// per committed command (its events together), and the arguments come back as the Published value, which is what
// triggers the subscriptions. Subscribers are told what happened, not who sent the command:
// the envelope's actor is left out of the detail they receive.
export function request(ctx) {
  const args = ctx.arguments;
  const given = args.detail;
  const detail = typeof given === 'string' ? JSON.parse(given) : given;
  const kept = {};
  for (const key of Object.keys(detail ?? {})) {
    if (key !== 'actor') {
      kept[key] = detail[key];
    }
  }
  return {
    payload: {
      aggregate: args.aggregate,
      streamId: args.streamId,
      version: args.version,
      type: args.type,
      detail: typeof given === 'string' ? JSON.stringify(kept) : kept,
      // the command's events (typed, no actor): the last entry of a command carries them
      fromVersion: args.fromVersion,
      truncated: args.truncated,
      events: typeof args.events === 'string' ? JSON.parse(args.events) : args.events,
    },
  };
}

export function response(ctx) {
  return ctx.result;
}
