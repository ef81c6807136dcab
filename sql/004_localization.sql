-- 004_localization.sql -- live localization (issue 12): per chunk the TDoA
-- of each usable pair of receivers, per chunk and per session a position
-- fix, as the recorder's manifest holds them ("tdoa", "fixes": rows of
-- src/engine/locate.h, one table each, same column names).
--
-- Keys make replays idempotent (the replicator re-sends what it had not
-- logged before a crash; inserts are ON CONFLICT DO NOTHING): one TDoA per
-- session, chunk and pair of receivers (in either order), one fix per
-- session and chunk, one session fix (final, chunk_index NULL) per session.
-- The constraints are the recorder's own checks (pgstore_loc_check): a row
-- that passes them is never refused here, so one bad row cannot block a
-- batch. Numbers that do not apply are NULL (no fix: no position; no known
-- source: no error_m). Not hypertables: the rows carry no time of their
-- own (a chunk's time is in measurements, by session and chunk_index), and
-- a hypertable's unique keys must hold its time column.

CREATE TABLE heimdall.tdoa_measurements (
    recording_session_id uuid NOT NULL
        REFERENCES heimdall.recording_sessions (id),
    chunk_index          integer NOT NULL,
    websdr_a             integer NOT NULL,   -- station index in the session
    websdr_b             integer NOT NULL,
    websdr_station_a_id  uuid NOT NULL REFERENCES heimdall.websdr_stations (id),
    websdr_station_b_id  uuid NOT NULL REFERENCES heimdall.websdr_stations (id),
    tdoa_us              double precision,   -- arrival at a minus at b
    sigma_us             double precision,   -- its standard uncertainty
    quality              double precision,   -- peak to side-lobe
    corr                 double precision,   -- normalized correlation peak
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (recording_session_id, chunk_index, websdr_a, websdr_b),
    CONSTRAINT tdoa_chunk_index CHECK (chunk_index >= 0),
    CONSTRAINT tdoa_pair CHECK (websdr_a >= 1 AND websdr_b >= 1
        AND websdr_a <> websdr_b),
    -- a chunk is one second: no delay within it reaches 1 s
    CONSTRAINT tdoa_range CHECK (tdoa_us BETWEEN -1e6 AND 1e6),
    CONSTRAINT tdoa_sigma CHECK (sigma_us >= 0),
    CONSTRAINT tdoa_corr CHECK (corr >= 0)
);

-- (a, b) and (b, a) are the same pair: one of them per chunk
CREATE UNIQUE INDEX tdoa_measurements_pair_idx
    ON heimdall.tdoa_measurements (recording_session_id, chunk_index,
        least(websdr_a, websdr_b), greatest(websdr_a, websdr_b));
CREATE INDEX tdoa_measurements_station_a_idx
    ON heimdall.tdoa_measurements (websdr_station_a_id);
CREATE INDEX tdoa_measurements_station_b_idx
    ON heimdall.tdoa_measurements (websdr_station_b_id);

CREATE TABLE heimdall.position_fixes (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recording_session_id uuid NOT NULL
        REFERENCES heimdall.recording_sessions (id),
    chunk_index          integer,            -- NULL: the session fix
    final                boolean NOT NULL,
    ok                   boolean NOT NULL,
    reason               text,               -- why not ok
    latitude             double precision,   -- degrees, WGS84
    longitude            double precision,
    semi_major_m         double precision,   -- the uncertainty ellipse
    semi_minor_m         double precision,
    orientation_deg      double precision,   -- major axis, clockwise from N
    cep50_m              double precision,
    cep95_m              double precision,
    receivers            integer[] NOT NULL DEFAULT '{}',  -- websdr used
    pairs_used           integer,
    error_m              double precision,   -- to the known source
    worst_websdr         integer,            -- largest timing residual
    worst_residual_us    double precision,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT fix_final CHECK (final = (chunk_index IS NULL)),
    CONSTRAINT fix_chunk_index CHECK (chunk_index >= 0),
    -- never a made-up position: a fix has one, a failure has a reason
    CONSTRAINT fix_position CHECK (ok = (latitude IS NOT NULL
        AND longitude IS NOT NULL)),
    CONSTRAINT fix_reason CHECK (ok OR reason IS NOT NULL),
    CONSTRAINT fix_latitude CHECK (latitude BETWEEN -90 AND 90),
    CONSTRAINT fix_longitude CHECK (longitude BETWEEN -180 AND 180),
    CONSTRAINT fix_ellipse CHECK (semi_major_m >= 0 AND semi_minor_m >= 0),
    CONSTRAINT fix_orientation CHECK (orientation_deg BETWEEN 0 AND 180),
    CONSTRAINT fix_cep CHECK (cep50_m >= 0 AND cep95_m >= 0),
    CONSTRAINT fix_error CHECK (error_m >= 0),
    CONSTRAINT fix_pairs CHECK (pairs_used >= 0),
    CONSTRAINT fix_worst CHECK (worst_websdr >= 1)
);

CREATE UNIQUE INDEX position_fixes_chunk_idx
    ON heimdall.position_fixes (recording_session_id, chunk_index)
    WHERE NOT final;
CREATE UNIQUE INDEX position_fixes_final_idx
    ON heimdall.position_fixes (recording_session_id) WHERE final;
