import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

describe("the webhook worker's wake-ups", () => {
  it("come once per feed advance: through the notifier only, not also from the sequencer", async () => {
    const { sequencer, webhookWorker } = server.app.services;
    // The notifier hears this process's sequencer and other processes' NOTIFYs, deduplicated by
    // head; a worker listening to the sequencer as well was woken twice for each local advance.
    const listeners = sequencer.listeners("advanced");
    expect(listeners).not.toContain(webhookWorker.feedAdvanced);
    expect(listeners).toHaveLength(1);
  });
});
