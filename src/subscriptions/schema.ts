import { ChangeFilterInput, ChangeRef, toChangeFilter } from "../changes/index.ts";
import { actorOf, builder } from "../kernel/index.ts";
import type { ChangeView } from "../ledger/index.ts";

builder.subscriptionField("changes", (t) =>
  t.field({
    type: ChangeRef,
    description:
      "Changes after `after` (replayed first, in order), then live ones, forever. Without `after`, from the head. " +
      "Resume after a disconnect with the last id received.",
    args: {
      filter: t.arg({ type: ChangeFilterInput }),
      after: t.arg.string(),
    },
    subscribe: (_root, args, context) =>
      context.services.subscriptions.changes(actorOf(context), {
        filter: toChangeFilter(args.filter),
        after: args.after,
        onRevoked: context.closeConnection
          ? () => context.closeConnection?.(4403, "Forbidden: the credential was revoked or expired")
          : undefined,
      }),
    resolve: (change: ChangeView) => change,
  }),
);
