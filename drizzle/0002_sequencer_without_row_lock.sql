-- The sequencer's pass without `FOR UPDATE` on change_feeds. Passes of a workspace are already
-- serialized by the advisory lock, and only they write `head`, so the lock added nothing; but
-- locking a row writes WAL, so every pass (even one numbering nothing) committed with a WAL flush.
-- Otherwise as 0001: number the committed change rows below the snapshot horizon, in (xid, id)
-- order, advance the head and NOTIFY once. Returns -1 when another pass holds the lock.
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
