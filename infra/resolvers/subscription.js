// Resolver of Subscription.on<Aggregate>Event, run when a subscriber starts the subscription,
// on the aggregate's query function (hotcore.entrypoints.query answers SubscribeRead). The
// function verifies the end user's ID token (the idToken argument: the real-time handshake
// carries the server's signature, not the user's token) and applies the aggregate's read
// policy: a customer follows only their own streams. Every aggregate's events go through the
// one publish mutation, so the filter is the aggregate named in the field (onAccountEvent ->
// "account") and, when given, the stream id. Following every stream of an aggregate (no
// stream id) needs both a back-office staff token (the function's check) and the back-office
// server's role (here); field-level IAM already limits which aggregates each server follows.
import { util, extensions } from '@aws-appsync/utils';

// IAM role names that may subscribe without a stream id (infra/constructs/frontends.py).
const ALL_STREAMS_ROLES = ['hotcore-back-office'];

function followsAll(identity) {
  const arn = (identity && identity.userArn) || '';
  for (const role of ALL_STREAMS_ROLES) {
    if (arn.includes(`:assumed-role/${role}/`) || arn.endsWith(`:role/${role}`)) {
      return true;
    }
  }
  return false;
}

export function request(ctx) {
  return {
    operation: 'Invoke',
    payload: {
      arguments: ctx.arguments,
      identity: ctx.identity ?? null,
      info: { fieldName: ctx.info.fieldName, parentTypeName: 'Subscription', variables: {} },
    },
  };
}

export function response(ctx) {
  const result = answered(ctx); // a refusal is the function's typed error (outcome.js)
  if (!result || result.outcome !== 'allowed') {
    util.unauthorized();
  }
  const field = ctx.info.fieldName;
  const aggregate = field.slice(2, field.length - 'Event'.length).toLowerCase();
  const filter = { aggregate: { eq: aggregate } };
  if (ctx.arguments.streamId) {
    filter.streamId = { eq: ctx.arguments.streamId };
  } else if (!followsAll(ctx.identity)) {
    util.unauthorized();
  }
  extensions.setSubscriptionFilter(util.transform.toSubscriptionFilter(filter));
  return null;
}

// include: outcome.js
