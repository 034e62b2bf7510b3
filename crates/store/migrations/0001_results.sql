-- perfgate's shared results store, version 1: benchmark runs, the report's verdicts and
-- recommendations beside them, and the A/A noise records `cargo xtask compare` learns floors
-- from. Every table is insert-only: the trigger at the end refuses UPDATE, DELETE and TRUNCATE.

CREATE TABLE benchmark_runs (
    id            bigserial PRIMARY KEY,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    run_at        timestamptz NOT NULL,
    git_commit    text,
    git_dirty     boolean,
    branch        text,
    host          text,
    cpu_model     text,
    logical_cores integer,
    workload      text,
    settings      text,
    -- The run's line of the JSON Lines history, as `cargo xtask history export` writes it.
    record        jsonb NOT NULL,
    -- The whole results.json (absent for runs imported from a JSON Lines history).
    results       jsonb,
    environment   jsonb,
    -- SHA-256 of the record's canonical JSONB text: the same run recorded twice is one row.
    content_key   bytea NOT NULL UNIQUE,
    results_key   bytea
);
CREATE INDEX benchmark_runs_branch_host ON benchmark_runs (branch, host, run_at);
CREATE INDEX benchmark_runs_results_key ON benchmark_runs (results_key);

CREATE TABLE performance_insights (
    id              bigserial PRIMARY KEY,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    -- The run the report was made on, when that run is in the store.
    run_id          bigint REFERENCES benchmark_runs (id),
    overall         text NOT NULL,
    verdict         jsonb NOT NULL,
    recommendations jsonb NOT NULL
);
CREATE INDEX performance_insights_run ON performance_insights (run_id);

CREATE TABLE aa_noise (
    id            bigserial PRIMARY KEY,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    branch        text,
    host          text,
    cpu_model     text,
    logical_cores integer,
    -- `{"design": ..., "metrics": {"id": change_pct}}`, as the JSON Lines noise record holds.
    record        jsonb NOT NULL
);

CREATE FUNCTION perfgate_refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'perfgate store: % on % refused: results are insert-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER benchmark_runs_insert_only BEFORE UPDATE OR DELETE ON benchmark_runs
    FOR EACH ROW EXECUTE FUNCTION perfgate_refuse_rewrite();
CREATE TRIGGER benchmark_runs_no_truncate BEFORE TRUNCATE ON benchmark_runs
    FOR EACH STATEMENT EXECUTE FUNCTION perfgate_refuse_rewrite();
CREATE TRIGGER performance_insights_insert_only BEFORE UPDATE OR DELETE ON performance_insights
    FOR EACH ROW EXECUTE FUNCTION perfgate_refuse_rewrite();
CREATE TRIGGER performance_insights_no_truncate BEFORE TRUNCATE ON performance_insights
    FOR EACH STATEMENT EXECUTE FUNCTION perfgate_refuse_rewrite();
CREATE TRIGGER aa_noise_insert_only BEFORE UPDATE OR DELETE ON aa_noise
    FOR EACH ROW EXECUTE FUNCTION perfgate_refuse_rewrite();
CREATE TRIGGER aa_noise_no_truncate BEFORE TRUNCATE ON aa_noise
    FOR EACH STATEMENT EXECUTE FUNCTION perfgate_refuse_rewrite();
