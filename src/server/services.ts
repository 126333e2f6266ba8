import type { Logger } from "pino";
import { ApiKeyService } from "../auth/apiKeys.ts";
import { Authenticator } from "../auth/authenticate.ts";
import { MemberService } from "../auth/members.ts";
import { SchemaChangeFeed } from "../changes/index.ts";
import { checkFileReferences } from "../files/access.ts";
import { FileService } from "../files/service.ts";
import type { DatabaseHandles, Db } from "../kernel/db.ts";
import type { Env } from "../kernel/env.ts";
import { ChangeFeed } from "../ledger/feed.ts";
import { Sequencer } from "../ledger/sequencer.ts";
import { deleteTypeRows, dropFieldValues } from "../ledger/typeRows.ts";
import { changeCapturingWrites } from "../ledger/writePath.ts";
import { createLimits, type Limits } from "../limits/index.ts";
import { CatalogStore } from "../metadata/catalog.ts";
import { MetadataService } from "../metadata/service.ts";
import { OAuthClientService } from "../oauth/clients.ts";
import { revokeMemberOAuth } from "../oauth/revoke.ts";
import { oauthTokenVerifier } from "../oauth/tokens.ts";
import { useFileReferenceCheck } from "../resources/references.ts";
import { ResourceService } from "../resources/service.ts";
import { SubscriptionService } from "../subscriptions/service.ts";
import { recordSchemaChangesAndDeliveries } from "../webhooks/schemaChanges.ts";
import { disableCreatorWebhooks, WebhookService } from "../webhooks/service.ts";
import { WebhookWorker } from "../webhooks/worker.ts";

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
  useFileReferenceCheck(checkFileReferences);
  const catalogs = new CatalogStore(db);
  // On the background pool a pass waits for a connection with the writes it numbers, so under
  // write load each pass numbers more of them: on the statement pool it ran twice as many passes
  // (3.4 instead of 8 commits each) and createResource lost ~10% of its throughput.
  const sequencer = new Sequencer(backgroundDb, logger);
  const changes = new ChangeFeed(db, catalogs);
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
    resources: new ResourceService(db, catalogs, changeCapturingWrites(sequencer)),
    changes,
    webhooks: new WebhookService(db, env, catalogs, changes, () => webhookWorker.kick()),
    webhookWorker,
    subscriptions,
    oauthClients: new OAuthClientService(db, auth, members),
    limits: createLimits({ db, backgroundDb, listen }, env, logger),
    files: new FileService(db, backgroundDb, env, catalogs, copyOut),
  };
}
