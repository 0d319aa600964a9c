/**
 * Versioned, forward-only migrations. Never edit a released migration: add the next one.
 * They are TypeScript strings (not .sql files) so the built package carries them.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'state, offsets and audit chain',
    sql: `
CREATE TABLE identity_state (
  identity_id  text        PRIMARY KEY,
  partition    integer     NOT NULL,
  version      bigint      NOT NULL,
  status       text        NOT NULL,
  wake_at      timestamptz NULL,
  state        text        NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX identity_state_partition ON identity_state (partition, identity_id);

-- One row per partition of the events topic: the next offset to apply, and the org-wide state
-- (globals, published policies) as this partition has seen it. Updated in the same statement as
-- the identity states, with a fence on next_offset, so two workers can never both apply a batch.
CREATE TABLE partition_state (
  topic        text        NOT NULL,
  partition    integer     NOT NULL,
  next_offset  bigint      NOT NULL,
  globals      text        NULL,
  policies     text        NULL,
  owner        text        NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, partition)
);

-- Append-only, hash-chained per partition: hash = sha256(prev_hash || canonical row).
CREATE TABLE audit_log (
  partition    integer     NOT NULL,
  seq          bigint      NOT NULL,
  at           timestamptz NOT NULL,
  kind         text        NOT NULL,
  identity_id  text        NULL,
  version      bigint      NULL,
  actor        text        NULL,
  event_id     text        NULL,
  payload      text        NOT NULL,
  prev_hash    bytea       NOT NULL,
  hash         bytea       NOT NULL,
  PRIMARY KEY (partition, seq)
);
CREATE INDEX audit_log_identity ON audit_log (identity_id, version);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
`,
  },
  {
    version: 2,
    name: 'enforcement points and their acknowledgements',
    sql: `
CREATE TABLE enforcer_status (
  enforcer_id        text        PRIMARY KEY,
  last_seen          timestamptz NOT NULL,
  identities         integer     NOT NULL,
  applied            bigint      NOT NULL DEFAULT 0,
  rejected           bigint      NOT NULL DEFAULT 0,
  last_version_at    timestamptz NULL,
  lag_p50_ms         double precision NULL,
  lag_p99_ms         double precision NULL,
  lag_max_ms         double precision NULL
);
`,
  },
  {
    version: 3,
    name: 'audit chain format 2, TRUNCATE refused',
    sql: `
-- Hash format of each row (see packages/store/src/auditChain.ts). Rows written before this
-- migration (and by workers still running the previous release) hashed \`at\` as the producer's
-- raw text: format 1. This release writes format 2, which hashes the canonical form it stores.
ALTER TABLE audit_log ADD COLUMN chain_version smallint NOT NULL DEFAULT 1;

-- The row trigger refuses UPDATE and DELETE; TRUNCATE fires no row trigger, so it needs its own,
-- statement-level one. The message names the refused operation.
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
`,
  },
  {
    version: 4,
    name: 'identity states by partition and wake-up instant',
    sql: `
-- A worker that starts processing a partition before its identities are all in memory loads the
-- identities whose timers are due first (PartitionLoader.ts): a range query on wake_at.
CREATE INDEX identity_state_partition_wake ON identity_state (partition, wake_at) WHERE wake_at IS NOT NULL;
`,
  },
];
