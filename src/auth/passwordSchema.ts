import { actorOf, builder } from "../kernel/index.ts";
import { setOwnPassword } from "./passwords.ts";
import { MemberRef } from "./schema.ts";

const SetPasswordInput = builder.inputType("SetPasswordInput", {
  fields: (t) => ({
    password: t.string({ required: true, description: "8 to 1024 characters." }),
    currentPassword: t.string({ description: "Required when you already have a password." }),
  }),
});
const SetPasswordPayload = builder.simpleObject("SetPasswordPayload", {
  fields: (t) => ({ member: t.field({ type: MemberRef }) }),
});

builder.mutationField("setPassword", (t) =>
  t.field({
    type: SetPasswordPayload,
    description: "Sets your own password, for Basic email/password and the OAuth sign-in page.",
    args: { input: t.arg({ type: SetPasswordInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      member: await setOwnPassword(context.services.db, context.services.auth, actorOf(context), input),
    }),
  }),
);
