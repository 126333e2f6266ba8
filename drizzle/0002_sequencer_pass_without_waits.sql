-- The sequencer's pass (see src/changes/sequencer.ts) without its two waits; otherwise as 0001.
-- * No `FOR UPDATE` on change_feeds: passes of a workspace are already serialized by the advisory
--   lock and only they write `head`, but locking the row writes WAL, so every pass (even one that
--   numbered nothing) committed with a WAL flush.
-- * The pass commits asynchronously (why that is safe: the comment in the body). Mutations wait for
--   the pass that numbers their change (read-your-writes in the feed), so they waited for its flush.
CREATE OR REPLACE FUNCTION plugboard_sequence(ws text, batch integer)
RETURNS TABLE (numbered integer, new_head bigint)
LANGUAGE plpgsql AS $$
DECLARE
  current_head bigint;
  n integer;
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('sequencer:' || ws)) THEN
    numbered := -1;
    new_head := NULL;
    RETURN NEXT;
    RETURN;
  END IF;
  -- The pass commits without waiting for its WAL flush. A crash may lose the last passes, never a
  -- change: change rows are committed (and flushed) by their writers, and numbering them again
  -- gives the same ids, because the rows below the old horizon are the same rows in the same
  -- (xid, id) order. So no reader ever sees an id move.
  PERFORM set_config('synchronous_commit', 'off', true);
  -- Read after taking the lock: the previous pass has committed its head.
  SELECT head INTO current_head FROM change_feeds WHERE workspace_id = ws;
  WITH ready AS (
    SELECT c.id, row_number() OVER (ORDER BY c.xid, c.id) AS rn
    FROM changes c
    WHERE c.workspace_id = ws AND c.seq IS NULL
      AND c.xid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY c.xid, c.id
    LIMIT batch
  )
  UPDATE changes c SET seq = current_head + ready.rn FROM ready WHERE c.id = ready.id;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n > 0 THEN
    UPDATE change_feeds SET head = current_head + n WHERE workspace_id = ws;
    PERFORM pg_notify('plugboard_changes', json_build_object('w', ws, 'h', current_head + n)::text);
  END IF;
  numbered := n;
  new_head := current_head + n;
  RETURN NEXT;
END
$$;
