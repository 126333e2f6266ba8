ALTER TABLE "change_feeds" ADD COLUMN "numbered_through_xid" "xid8" DEFAULT '0'::xid8 NOT NULL;--> statement-breakpoint
ALTER TABLE "change_feeds" ADD COLUMN "numbered_through_id" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
-- The sequencer's pass (src/ledger/sequencer.ts) as in 0002, looking for ready rows after the
-- `(xid, id)` where the last pass stopped instead of from the workspace's first unnumbered index
-- entry. Numbering a row leaves its unnumbered version's entry in `changes_unsequenced` until
-- VACUUM removes it (PGlite never does; autovacuum waits for a fifth of the table to be dead), and
-- after a burst every pass read them all: ~500 index pages per pass after 60,000 changes, the same
-- for each feed read's wait (and a burst's own passes read them over and over).
-- Why looking after it misses nothing: a pass numbers ready rows in (xid, id) order, so every
-- ready row up to the last one it numbered is numbered; one that numbers fewer than its batch
-- leaves no ready row below its horizon, and every transaction that can still write a change has
-- an xid at or above that horizon (it is the oldest running one's, and new ones get newer xids),
-- so it stops at (horizon, 0). Saved with `head` in the same transaction: a crash that loses a pass
-- loses both (0002 says why losing a pass is safe).
CREATE OR REPLACE FUNCTION plugboard_sequence(ws text, batch integer)
RETURNS TABLE (numbered integer, new_head bigint)
LANGUAGE plpgsql AS $$
DECLARE
  current_head bigint;
  after_xid xid8;
  after_id bigint;
  horizon xid8;
  last_xid xid8;
  last_id bigint;
  n integer;
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('sequencer:' || ws)) THEN
    numbered := -1;
    new_head := NULL;
    RETURN NEXT;
    RETURN;
  END IF;
  PERFORM set_config('synchronous_commit', 'off', true);
  -- Read after taking the lock: the previous pass has committed its head.
  SELECT head, numbered_through_xid, numbered_through_id INTO current_head, after_xid, after_id
    FROM change_feeds WHERE workspace_id = ws;
  -- Every transaction below the horizon has ended, so the statement below (a later snapshot) sees
  -- all of their committed rows.
  horizon := pg_snapshot_xmin(pg_current_snapshot());
  WITH ready AS (
    SELECT c.id, c.xid, row_number() OVER (ORDER BY c.xid, c.id) AS rn
    FROM changes c
    WHERE c.workspace_id = ws AND c.seq IS NULL AND (c.xid, c.id) > (after_xid, after_id)
      AND c.xid < horizon
    ORDER BY c.xid, c.id
    LIMIT batch
  ), done AS (
    UPDATE changes c SET seq = current_head + ready.rn FROM ready WHERE c.id = ready.id
    RETURNING ready.xid, ready.id, ready.rn
  )
  -- The last row numbered: where a full batch stops.
  SELECT count(*), (array_agg(done.xid ORDER BY done.rn DESC))[1], (array_agg(done.id ORDER BY done.rn DESC))[1]
    INTO n, last_xid, last_id FROM done;
  IF n > 0 THEN
    UPDATE change_feeds
      SET head = current_head + n,
          numbered_through_xid = CASE WHEN n < batch THEN horizon ELSE last_xid END,
          numbered_through_id = CASE WHEN n < batch THEN 0 ELSE last_id END
      WHERE workspace_id = ws;
    PERFORM pg_notify('plugboard_changes', json_build_object('w', ws, 'h', current_head + n)::text);
  END IF;
  numbered := n;
  new_head := current_head + n;
  RETURN NEXT;
END
$$;
