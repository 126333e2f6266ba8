-- Resource-change deliveries now keep only change_seq and read the change when sent. Rows enqueued
-- before keep their data: it is no longer read (they are sent from their change like new rows) and
-- goes with the rows when they are pruned, so no table rewrite here.
ALTER TABLE "webhook_deliveries" ALTER COLUMN "data" DROP NOT NULL;
