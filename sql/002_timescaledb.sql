-- 002_timescaledb.sql -- measurements becomes a TimescaleDB hypertable (on
-- "timestamp", 1-day chunks) when the extension is installed on the server;
-- otherwise it stays a plain table with the same indexes. A server that has
-- the package but cannot load it (not in shared_preload_libraries) keeps
-- the plain table too: the reason is raised as a NOTICE.

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions
               WHERE name = 'timescaledb') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS timescaledb;
            PERFORM create_hypertable('heimdall.measurements', 'timestamp',
                chunk_time_interval => interval '1 day',
                if_not_exists => true, migrate_data => true);
        EXCEPTION WHEN others THEN
            RAISE NOTICE 'timescaledb present but not usable, measurements '
                'stays a plain table: %', SQLERRM;
        END;
    END IF;
END
$$;
