/**
 * The control plane's own tables, beside the store's in the same PostgreSQL schema, prefixed `cp_`
 * and versioned in `cp_schema_migrations` (the store's `schema_migrations` stays the store's).
 * Forward-only: never edit a released migration, add the next one.
 */
export interface CpMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const cpMigrations: readonly CpMigration[] = [
  {
    version: 1,
    name: 'orders, alerts, enforcer details and consumer offsets',
    sql: `
-- Orders issued through the API: who, what, and where each copy of the broadcast landed, so any
-- instance can tell whether the workers have processed it (partition_state.next_offset past it).
CREATE TABLE cp_orders (
  order_id      text        PRIMARY KEY,
  kind          text        NOT NULL,
  actor         text        NOT NULL,
  reason        text        NOT NULL,
  target        text        NOT NULL,
  event_id      text        NOT NULL,
  event         text        NOT NULL,
  issued_at     timestamptz NOT NULL,
  expires_at    timestamptz NULL,
  offsets       text        NULL,
  lift_event_id text        NULL,
  lift_actor    text        NULL,
  lift_reason   text        NULL,
  lifted_at     timestamptz NULL,
  lift_offsets  text        NULL
);
CREATE INDEX cp_orders_issued ON cp_orders (issued_at);

-- Drift alerts from the alerts topic (worker- and enforcer-raised). seq orders them for
-- Server-Sent Events resumption (Last-Event-ID); alert_id makes a replayed alert a no-op.
CREATE TABLE cp_alerts (
  seq          bigserial   PRIMARY KEY,
  alert_id     text        NOT NULL UNIQUE,
  type         text        NOT NULL,
  severity     text        NOT NULL,
  identity_id  text        NULL,
  enforcer_id  text        NULL,
  at           timestamptz NOT NULL,
  summary      text        NOT NULL,
  body         text        NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cp_alerts_identity ON cp_alerts (identity_id, seq);
CREATE INDEX cp_alerts_type ON cp_alerts (type, seq);

-- What enforcer_status does not hold: the last version each enforcement point applied.
CREATE TABLE cp_enforcers (
  enforcer_id       text        PRIMARY KEY,
  first_seen        timestamptz NOT NULL,
  last_identity_id  text        NULL,
  last_version      bigint      NULL,
  last_kind         text        NULL,
  last_applied_at   timestamptz NULL,
  last_produced_at  timestamptz NULL
);

-- Next offset per consumed partition, written in the same transaction as what the messages
-- changed (exactly-once into PostgreSQL), fenced on the offset expected.
CREATE TABLE cp_offsets (
  consumer     text        NOT NULL,
  topic        text        NOT NULL,
  partition    integer     NOT NULL,
  next_offset  bigint      NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, topic, partition)
);
`,
  },
  {
    version: 2,
    name: 'alert acknowledgements',
    sql: `
-- Who acknowledged which alert (console and API). ack_seq orders acknowledgements so that alert
-- streams of every instance can pass them on to their clients.
CREATE TABLE cp_alert_acks (
  alert_seq  bigint      PRIMARY KEY REFERENCES cp_alerts (seq),
  ack_seq    bigserial   NOT NULL UNIQUE,
  acked_by   text        NOT NULL,
  acked_at   timestamptz NOT NULL DEFAULT now(),
  note       text        NULL
);
CREATE INDEX cp_alerts_at ON cp_alerts (at);
`,
  },
  {
    version: 3,
    name: 'idempotency keys of orders and lifts',
    sql: `
-- The Idempotency-Key of POST /v1/orders and of lifts: the first answer to a (subject, operation,
-- key) is kept until expires_at and given again to a retry, so a retried request never publishes a
-- second order. The key is claimed in the statement that records the order (or claims the lift);
-- status and response stay NULL until the publication is confirmed, and the claim goes with the
-- order row when its publication definitely failed (the order is deleted, nothing was published).
CREATE TABLE cp_idempotency (
  subject      text        NOT NULL,
  operation    text        NOT NULL,
  key          text        NOT NULL,
  fingerprint  text        NOT NULL,
  order_id     text        NOT NULL REFERENCES cp_orders (order_id) ON DELETE CASCADE,
  event_id     text        NOT NULL,
  status       integer     NULL,
  response     text        NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  PRIMARY KEY (subject, operation, key)
);
CREATE INDEX cp_idempotency_expires ON cp_idempotency (expires_at);
CREATE INDEX cp_idempotency_order ON cp_idempotency (order_id);
`,
  },
  {
    version: 4,
    name: 'whether enforcer acknowledgements were verified',
    sql: `
-- Whether an enforcement point's latest acknowledgements were signed by one of its own keys
-- (LIVESCOPE_API_ENFORCER_KEYS); NULL for rows written before acknowledgements were verified.
ALTER TABLE cp_enforcers ADD COLUMN acks_verified boolean NULL;
`,
  },
  {
    version: 5,
    name: 'policy publication requests',
    sql: `
-- Policy sets published (or to be published) through the API: content hash (publication is
-- idempotent by it), the files, who asked and who approved (a second admin, when required), the
-- version assigned and where each copy of the broadcast landed. The workers' audit log stays the
-- record of what was applied; this table adds what only the control plane knows.
CREATE TABLE cp_policy_requests (
  request_id    text        PRIMARY KEY,
  content_hash  text        NOT NULL,
  files         text        NOT NULL,
  status        text        NOT NULL CHECK (status IN ('pending', 'published', 'rejected')),
  requested_by  text        NOT NULL,
  requested_at  timestamptz NOT NULL,
  reason        text        NULL,
  rollback_of   bigint      NULL,
  approved_by   text        NULL,
  decided_at    timestamptz NULL,
  version       bigint      NULL UNIQUE,
  event_id      text        NULL,
  offsets       text        NULL
);
CREATE INDEX cp_policy_requests_hash ON cp_policy_requests (content_hash, status);
CREATE INDEX cp_policy_requests_at ON cp_policy_requests (requested_at);
`,
  },
];
