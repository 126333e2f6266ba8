import { builder } from "./builder.ts";

/**
 * The one `PageInfo` type of every connection (resources, changes, schema changes, webhook
 * deliveries). What a cursor means differs by connection: its `pageInfo` field says so.
 */
export const PageInfoRef = builder.simpleObject("PageInfo", {
  fields: (t) => ({
    hasNextPage: t.boolean(),
    hasPreviousPage: t.boolean(),
    startCursor: t.string({ nullable: true }),
    endCursor: t.string({ nullable: true }),
  }),
});
