/**
 * An example connector for Plugboard, shaped like a Zapier / n8n / Okta Workflows / Workato app:
 * authentication with a test, dynamic dropdowns and input fields, a polling and a webhook trigger,
 * searches and actions. It uses only `plugboard/client`.
 */
import {
  assignAction,
  copyAction,
  createAction,
  linkAction,
  moveAction,
  updateAction,
  upsertAction,
} from "./actions.ts";
import { connect, testAuth } from "./auth.ts";
import { inputFields, resourceChoices, typeChoices } from "./fields.ts";
import { initialPollState, poll, sample } from "./pollingTrigger.ts";
import { findOrCreate, findResources } from "./search.ts";
import { perform, subscribe, unsubscribe } from "./webhookTrigger.ts";

export type { Credentials } from "./auth.ts";
export type { ChangeRecord, ResourceRecord } from "./output.ts";
export type { PollState } from "./pollingTrigger.ts";
export { HookReceiver } from "./receiver.ts";
export type { HookSubscription } from "./webhookTrigger.ts";

export const connector = {
  authentication: { connect, test: testAuth },
  dropdowns: { types: typeChoices, resources: resourceChoices },
  inputFields,
  triggers: {
    /** "New or changed resource" by polling the changes feed. */
    changesPolling: { initialState: initialPollState, poll, sample },
    /** The same, pushed: a webhook created on enable and deleted on disable. */
    changesWebhook: { subscribe, unsubscribe, perform },
  },
  searches: { findResources, findOrCreate },
  actions: {
    create: createAction,
    update: updateAction,
    upsert: upsertAction,
    copy: copyAction,
    link: linkAction,
    assign: assignAction,
    move: moveAction,
  },
};
