import { GraphQLScalarType } from "graphql";
import { DateTimeResolver, JSONResolver } from "graphql-scalars";
import { builder } from "./builder.ts";

const dateTimeConfig = DateTimeResolver.toConfig();

/** Already in the output form (resource rows carry timestamps formatted by PostgreSQL). */
const UTC_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** ISO 8601 in UTC with milliseconds on the way out, whatever the driver handed us. */
const DateTime = new GraphQLScalarType({
  ...dateTimeConfig,
  description: "ISO 8601 in UTC with milliseconds, e.g. 2026-11-27T18:10:40.123Z",
  serialize(value) {
    if (typeof value === "string" && UTC_ISO.test(value)) return value;
    const date = value instanceof Date ? value : new Date(value as string | number);
    if (Number.isNaN(date.getTime())) return dateTimeConfig.serialize(value);
    return date.toISOString();
  },
});

builder.addScalarType("DateTime", DateTime);
builder.addScalarType("JSON", JSONResolver);
