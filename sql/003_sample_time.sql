-- 003_sample_time.sql -- the exact time of each chunk, for TDoA (issue 12).
-- One sample at 12 kS/s is 83 us, 25 km of path: "timestamp" (a
-- timestamptz, microseconds, and on the chunk grid) cannot say when a
-- chunk's first sample was taken closely enough. t0_ns is that instant in
-- nanoseconds since the Unix epoch (UTC), from the receiver's GPS block
-- stamps fitted against sample index; sample_rate_hz is the rate that fit
-- measured (iq_sample_rate is the rate the receiver reports). Both are
-- NULL unless time_source is 'gps': receivers without sample timestamps
-- (rtl_tcp, SpyServer, OpenWebRX: 'local'), KiwiSDR chunks without a fresh
-- GPS fix ('gps_stale'), or whose GPS time the other receivers contradict
-- ('gps_rejected'), and rows recorded before this column existed.

ALTER TABLE heimdall.measurements
    ADD COLUMN IF NOT EXISTS t0_ns bigint,
    ADD COLUMN IF NOT EXISTS sample_rate_hz double precision;

COMMENT ON COLUMN heimdall.measurements.t0_ns IS
    'UTC ns since 1970 of the chunk''s first sample (GPS fit); NULL unless time_source = ''gps''';
COMMENT ON COLUMN heimdall.measurements.sample_rate_hz IS
    'sample rate measured from the GPS stamps; NULL unless time_source = ''gps''';
