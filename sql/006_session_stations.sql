-- 006_session_stations.sql -- what was true when a session was recorded
-- (issue 16). websdr_stations holds one row per receiver name, shared by
-- every recorder that lists it; a recorder whose stations file moves or
-- renames a receiver must not rewrite the history of sessions stored
-- before. So each session keeps its own copy of its stations as its
-- manifest had them (position, URL, type, the rate measured), by its
-- station index (measurements.websdr), written once and never updated.
--
-- And the shared row follows the newest session that described it, not
-- the last one replicated: described_at is that session's start, and an
-- older session sent later (a backlog, a `sync` of an old dataset) leaves
-- the row alone. NULL for rows written before this migration (the next
-- session updates them).

CREATE TABLE IF NOT EXISTS heimdall.session_stations (
    recording_session_id uuid NOT NULL
        REFERENCES heimdall.recording_sessions (id),
    websdr               integer NOT NULL,   -- station index in the session
    websdr_station_id    uuid NOT NULL REFERENCES heimdall.websdr_stations (id),
    name                 varchar(255) NOT NULL,
    url                  varchar(512),
    api_type             varchar(50),
    latitude             double precision,
    longitude            double precision,
    published_latitude   double precision,   -- where the receiver said it was
    published_longitude  double precision,
    sample_rate          double precision,   -- measured, samples/s
    PRIMARY KEY (recording_session_id, websdr)
);

CREATE INDEX IF NOT EXISTS session_stations_station_idx
    ON heimdall.session_stations (websdr_station_id);

ALTER TABLE heimdall.websdr_stations
    ADD COLUMN IF NOT EXISTS described_at timestamptz;
