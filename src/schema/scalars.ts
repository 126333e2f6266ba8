import { GraphQLScalarType } from "graphql";
import { DateTimeResolver, JSONResolver } from "graphql-scalars";
import { builder } from "./builder.ts";

const dateTimeConfig = DateTimeResolver.toConfig();

/** ISO 8601 in UTC with milliseconds on the way out, whatever the driver handed us. */
const DateTime = new GraphQLScalarType({
  ...dateTimeConfig,
  description: "ISO 8601 in UTC with milliseconds, e.g. 2026-11-27T18:10:40.123Z",
  serialize(value) {
    const date = value instanceof Date ? value : new Date(value as string | number);
    if (Number.isNaN(date.getTime())) return dateTimeConfig.serialize(value);
    return date.toISOString();
  },
});

builder.addScalarType("DateTime", DateTime);
builder.addScalarType("JSON", JSONResolver);
