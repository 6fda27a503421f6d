// Resolver of Subscription.on<Aggregate>Event (NONE data source). Every aggregate's events go
// through the one publish mutation, so the subscription filters on the aggregate named in its
// field (onAccountEvent -> "account") and, when given, on the stream id.
import { util, extensions } from '@aws-appsync/utils';

export function request(ctx) {
  return { payload: null };
}

export function response(ctx) {
  const field = ctx.info.fieldName;
  const aggregate = field.slice(2, field.length - 'Event'.length).toLowerCase();
  const filter = { aggregate: { eq: aggregate } };
  if (ctx.arguments.stream_id) {
    filter.stream_id = { eq: ctx.arguments.stream_id };
  }
  extensions.setSubscriptionFilter(util.transform.toSubscriptionFilter(filter));
  return null;
}
