import type { Logger } from "pino";
import { ApiKeyService, Authenticator, MemberService } from "../auth/index.ts";
import { checkFileReferences, FileService } from "../files/index.ts";
import type { DatabaseHandles, Db, Env } from "../kernel/index.ts";
import {
  ChangeFeed,
  changeCapturingWrites,
  deleteTypeRows,
  dropFieldValues,
  SchemaChangeFeed,
  Sequencer,
} from "../ledger/index.ts";
import { createLimits, type Limits } from "../limits/index.ts";
import { CatalogStore, MetadataService } from "../metadata/index.ts";
import { OAuthClientService, oauthTokenVerifier, revokeMemberOAuth } from "../oauth/index.ts";
import { ResourceService } from "../resources/index.ts";
import { SubscriptionService } from "../subscriptions/index.ts";
import {
  disableCreatorWebhooks,
  recordSchemaChangesAndDeliveries,
  WebhookService,
  WebhookWorker,
} from "../webhooks/index.ts";

/** Everything a request may use, built once per process. */
export interface Services {
  db: Db;
  /** Background work's database (see `Database.backgroundDb`). */
  backgroundDb: Db;
  env: Env;
  logger: Logger;
  auth: Authenticator;
  members: MemberService;
  apiKeys: ApiKeyService;
  catalogs: CatalogStore;
  metadata: MetadataService;
  sequencer: Sequencer;
  resources: ResourceService;
  changes: ChangeFeed;
  schemaChanges: SchemaChangeFeed;
  webhooks: WebhookService;
  webhookWorker: WebhookWorker;
  subscriptions: SubscriptionService;
  oauthClients: OAuthClientService;
  limits: Limits;
  files: FileService;
}

export function createServices(
  { db, backgroundDb, listen, copyOut }: DatabaseHandles,
  env: Env,
  logger: Logger,
): Services {
  const auth = new Authenticator(
    db,
    (error) => logger.warn({ err: error }, "could not record key use"),
    env.PLUGBOARD_PASSWORD_CACHE_SECONDS * 1000,
  );
  auth.tokenVerifiers.push(oauthTokenVerifier(db));
  const catalogs = new CatalogStore(db);
  // On the background pool a pass waits for a connection with the writes it numbers, so under
  // write load each pass numbers more of them: on the statement pool it ran twice as many passes
  // (3.4 instead of 8 commits each) and createResource lost ~10% of its throughput.
  const sequencer = new Sequencer(backgroundDb, logger);
  const changes = new ChangeFeed(db, catalogs, (workspaceId) => sequencer.settle(workspaceId));
  const members = new MemberService(db, auth);
  const webhookWorker = new WebhookWorker(backgroundDb, env, logger, changes, catalogs);
  members.onRemoved.push(disableCreatorWebhooks, revokeMemberOAuth);
  const subscriptions = new SubscriptionService(changes, catalogs, sequencer, auth, listen, logger);
  subscriptions.maxPerCredential = env.PLUGBOARD_MAX_SUBSCRIPTIONS;
  const schemaChanges = new SchemaChangeFeed(db, catalogs);
  subscriptions.schemaFeed = schemaChanges;
  // The notifier wakes the webhook worker once per advance, this process's or another's
  // (LISTEN/NOTIFY); the worker looks for work only when it has active webhooks.
  subscriptions.notifier.subscribeAll({ wake: webhookWorker.feedAdvanced });
  return {
    db,
    backgroundDb,
    env,
    logger,
    auth,
    members,
    apiKeys: new ApiKeyService(db, auth),
    catalogs,
    metadata: new MetadataService(
      db,
      catalogs,
      { deleteTypeRows, dropFieldValues },
      recordSchemaChangesAndDeliveries,
    ),
    schemaChanges,
    sequencer,
    resources: new ResourceService(db, catalogs, changeCapturingWrites(sequencer), checkFileReferences),
    changes,
    webhooks: new WebhookService(db, env, catalogs, changes, () => webhookWorker.kick()),
    webhookWorker,
    subscriptions,
    oauthClients: new OAuthClientService(db, auth, members),
    limits: createLimits({ db, backgroundDb, listen }, env, logger),
    files: new FileService(db, backgroundDb, env, catalogs, copyOut),
  };
}
