-- 005_session_group.sql -- linked sessions (issue 16): several field
-- stations, each with its own recorder, record the same transmission; the
-- group id they share joins their sessions centrally. NULL = no group
-- (sessions recorded alone, and every session before this column). The
-- check is the recorder's own (util_is_token): letters, digits and . _ : -,
-- 1-64 bytes; the recorder sends NULL rather than a value that fails it,
-- so a hand-edited manifest cannot block its session's replication.

ALTER TABLE heimdall.recording_sessions
    ADD COLUMN IF NOT EXISTS group_id text
        CONSTRAINT session_group_id CHECK (group_id ~ '^[A-Za-z0-9._:-]{1,64}$');

CREATE INDEX IF NOT EXISTS recording_sessions_group_id
    ON heimdall.recording_sessions (group_id) WHERE group_id IS NOT NULL;

COMMENT ON COLUMN heimdall.recording_sessions.group_id IS
    'links the sessions several recorders made of one transmission; NULL = none';
