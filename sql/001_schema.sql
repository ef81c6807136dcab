-- 001_schema.sql -- the central Heimdall store: schema heimdall, the four
-- tables of the platform (same names and columns) plus what heimdall-rec
-- records beyond them. Applied once by `heimdall-rec db migrate`, inside a
-- transaction, under an advisory lock, recorded in heimdall.schema_migrations.

CREATE SCHEMA IF NOT EXISTS heimdall;

-- "Unknown" is a real row: the name is UNIQUE, so every station's
-- INSERT ... ON CONFLICT (name) lands on the same source (the platform's
-- original insert used ON CONFLICT (name) without such a constraint, which
-- PostgreSQL rejects).
CREATE TABLE heimdall.known_sources (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                varchar(255) NOT NULL,
    description         text,
    frequency_hz        bigint,
    latitude            double precision,
    longitude           double precision,
    power_dbm           double precision,
    source_type         varchar(50),
    is_validated        boolean NOT NULL DEFAULT false,
    error_margin_meters double precision NOT NULL DEFAULT 50,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT known_sources_name_key UNIQUE (name),
    CONSTRAINT positive_error_margin CHECK (error_margin_meters > 0)
);

INSERT INTO heimdall.known_sources (name, description)
VALUES ('Unknown', 'Transmitter not identified')
ON CONFLICT (name) DO NOTHING;

CREATE TABLE heimdall.websdr_stations (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name             varchar(255) NOT NULL,
    url              varchar(512) NOT NULL,
    country          varchar(100),
    latitude         double precision,
    longitude        double precision,
    frequency_min_hz bigint,
    frequency_max_hz bigint,
    is_active        boolean NOT NULL DEFAULT true,
    api_type         varchar(50),
    rate_limit_ms    integer,
    timeout_seconds  integer,
    notes            text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT websdr_stations_name_key UNIQUE (name),
    CONSTRAINT valid_frequency_range CHECK (frequency_min_hz <= frequency_max_hz)
);

CREATE TABLE heimdall.recording_sessions (
    id               uuid PRIMARY KEY,
    known_source_id  uuid REFERENCES heimdall.known_sources (id),
    session_name     varchar(255) NOT NULL,
    session_start    timestamptz NOT NULL,
    session_end      timestamptz,
    duration_seconds double precision,
    celery_task_id   varchar(255),
    status           varchar(50) NOT NULL DEFAULT 'pending',
    approval_status  varchar(20) NOT NULL DEFAULT 'pending',
    notes            text,
    -- beyond the platform: what the recorder knows about the session
    frequency_hz     bigint,
    failure_reason   text,
    recorder_host    varchar(255),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT valid_status CHECK (status IN ('pending', 'recording',
        'source_assigned', 'in_progress', 'completed', 'failed')),
    CONSTRAINT valid_approval_status CHECK (approval_status IN ('pending',
        'approved', 'rejected'))
);

CREATE INDEX recording_sessions_status_idx
    ON heimdall.recording_sessions (status);
CREATE INDEX recording_sessions_start_idx
    ON heimdall.recording_sessions (session_start DESC);

-- One row per receiver per 1-second chunk. "timestamp" is the UTC time of
-- the chunk's first sample (also in first_sample_utc, by that name, for
-- readers that take "timestamp" for the platform's looser meaning). iq_sample_rate and frequency_offset_hz are
-- double precision (the platform had integers: a KiwiSDR runs at e.g.
-- 12001.135 S/s and offsets are fractional).
CREATE TABLE heimdall.measurements (
    id                   uuid NOT NULL,
    "timestamp"          timestamptz NOT NULL,
    websdr_station_id    uuid NOT NULL REFERENCES heimdall.websdr_stations (id),
    recording_session_id uuid REFERENCES heimdall.recording_sessions (id),
    frequency_hz         bigint NOT NULL,
    signal_strength_db   double precision,
    snr_db               double precision,
    frequency_offset_hz  double precision,
    iq_data_location     varchar(512),
    iq_data_format       varchar(50),
    iq_sample_rate       double precision,
    iq_samples_count     integer,
    duration_seconds     double precision,
    notes                text,
    -- beyond the platform
    first_sample_utc     timestamptz NOT NULL,  -- = "timestamp", named
    chunk_index          integer NOT NULL,
    websdr               integer NOT NULL,
    noise_floor_db       double precision,
    rssi_dbm             double precision,
    peak_amplitude       double precision,
    adc_overflow_count   integer,
    gps_fix_age_s        double precision,
    time_source          varchar(16),
    samples_lost         integer,
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY ("timestamp", id)
);

CREATE INDEX measurements_session_idx
    ON heimdall.measurements (recording_session_id, chunk_index, websdr);
CREATE INDEX measurements_station_time_idx
    ON heimdall.measurements (websdr_station_id, "timestamp" DESC);
CREATE INDEX measurements_frequency_time_idx
    ON heimdall.measurements (frequency_hz, "timestamp" DESC);
