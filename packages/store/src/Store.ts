import pg from 'pg';
import { chain, GENESIS_HASH, type AuditRecord, type ChainedAuditRecord, type ChainTail } from './auditChain.js';
import { PartitionChainVerifier, type AuditHeadRef, type AuditProblem, type AuditProblemKind } from './ChainVerifier.js';
import { migrations } from './migrations.js';
import { classifyPgError, StoreError } from './StoreError.js';

export interface StoreOptions {
  /** e.g. `postgres://postgres@127.0.0.1:5432/livescope`. */
  readonly connectionString: string;
  /** PostgreSQL schema holding livescope's tables (created if missing). Default `livescope`. */
  readonly schema?: string;
  /** Pool size. Default 4. */
  readonly poolSize?: number;
  readonly applicationName?: string;
}

export interface IdentityRow {
  readonly identityId: string;
  readonly partition: number;
  readonly version: number;
  readonly status: string;
  readonly wakeAt: number | null;
  /** The encoded state: JSON text (a commit embeds it as is in a JSON document). */
  readonly state: string;
}

export interface PartitionRecord {
  /** Next offset to apply; -1 when nothing was ever applied. */
  readonly nextOffset: bigint;
  readonly globals: string | null;
  readonly policies: string | null;
  readonly auditTail: ChainTail;
}

export interface BatchCommit {
  readonly topic: string;
  readonly partition: number;
  /** The offset this worker believes is next; the commit fails with FENCED if the row says otherwise. */
  readonly expectedOffset: bigint;
  readonly nextOffset: bigint;
  readonly owner: string;
  readonly identities: readonly IdentityRow[];
  readonly globals?: string | undefined;
  readonly policies?: string | undefined;
  readonly audit: readonly Omit<AuditRecord, 'seq' | 'partition'>[];
}

export interface AuditVerification {
  /** No partition has a problem. */
  readonly ok: boolean;
  /** Partitions verified: every chain in the table, plus every partition a head was given for. */
  readonly partitions: number;
  /** Rows verified (those before a partition's problem included). */
  readonly rows: number;
  /** The first problem (lowest partition), kept for callers that show one. */
  readonly firstBad?: { readonly partition: number; readonly seq: number; readonly problem: AuditProblemKind; readonly detail: string };
  /** The first problem of every partition that does not verify, by partition. */
  readonly problems: readonly AuditProblem[];
  /** Signed heads matched against a row (0 when none were given). */
  readonly headsChecked: number;
  /**
   * When heads were given: partitions whose chain has rows but no head covers any of them. Their
   * tail is protected by the hash links only (a removed tail would go unnoticed): a publisher that
   * is not running, or a chain newer than the last publication.
   */
  readonly partitionsWithoutHead: readonly number[];
}

export interface VerifyAuditOptions {
  /**
   * Signed chain heads by partition, signatures already checked (`readAuditHeads`). Each must be
   * in the table; without them a removed tail is undetectable.
   */
  readonly heads?: ReadonlyMap<number, readonly AuditHeadRef[]>;
  /** Called with the number of rows verified so far, after every page. */
  readonly onProgress?: (rows: number) => void;
  /** Rows read per query. Default 5000. */
  readonly pageRows?: number;
}

/** The last row of a partition's chain and the partition's committed offset, read together. */
export interface AuditChainHead {
  readonly partition: number;
  readonly seq: number;
  readonly hash: Buffer;
  /** partition_state.next_offset in the same snapshot (-1 when nothing was applied). */
  readonly nextOffset: bigint;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * A batch's rows travel as one JSON document per table (`json_array_elements` unpacks them): the
 * driver's text-array encoding escaped every quote of every state and payload character by
 * character, which cost the worker more than building the rows. Texts (states, payloads) travel
 * as JSON strings: embedding a state as a JSON value would fail on the `\u0000` escapes of its
 * permission keys, which PostgreSQL refuses to turn into text.
 */
function identityRowsJson(rows: readonly IdentityRow[]): string {
  const parts = rows.map((r) => `[${JSON.stringify(r.identityId)},${r.version},${JSON.stringify(r.status)},${r.wakeAt === null ? 'null' : r.wakeAt},${JSON.stringify(r.state)}]`);
  return `[${parts.join(',')}]`;
}

/** Audit rows in canonical form (see auditChain.ts): `at` travels as epoch milliseconds. */
function auditRowsJson(rows: readonly ChainedAuditRecord[]): string {
  return JSON.stringify(rows.map((r) => [r.seq, r.atMs, r.kind, r.identityId, r.version, r.actor, r.eventId, r.payload, r.prevHash.toString('hex'), r.hash.toString('hex'), r.chainVersion]));
}

/**
 * The state of record in PostgreSQL: per-identity state, per-partition offsets and org-wide state,
 * and the hash-chained audit log. A batch commits in ONE statement (data-modifying CTEs), fenced
 * on the partition's expected offset: exactly-once state with a single round trip.
 */
export class Store {
  private constructor(
    readonly pool: pg.Pool,
    readonly schema: string,
  ) {}

  static async open(options: StoreOptions): Promise<Store> {
    const schema = options.schema ?? 'livescope';
    if (!SCHEMA_NAME.test(schema)) throw new StoreError('MIGRATION', `invalid schema name ${schema}`);
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 4,
      application_name: options.applicationName ?? 'livescope',
      options: `-c search_path=${schema}`,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
    });
    // A dead connection in the pool must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    const store = new Store(pool, schema);
    try {
      await store.migrate();
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    }
    return store;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1', [], 'ping');
  }

  /** Applies missing migrations in order, under an advisory lock; refuses a database newer than the code. */
  async migrate(): Promise<number[]> {
    const client = await this.connect('migrate');
    try {
      // Serialised across processes before anything is created: two workers starting at once would
      // otherwise race on CREATE SCHEMA (a unique violation in pg_namespace).
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [`livescope-migrate-${this.schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      const applied = new Set(rows.map((r) => r.version));
      const newest = Math.max(0, ...applied);
      const known = Math.max(...migrations.map((m) => m.version));
      if (newest > known) throw new StoreError('MIGRATION', `database schema ${this.schema} is at version ${newest}, newer than this code (${known}); upgrade livescope`);
      const done: number[] = [];
      for (const m of migrations) {
        if (applied.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await client.query('COMMIT');
          done.push(m.version);
        } catch (e) {
          await client.query('ROLLBACK');
          throw new StoreError('MIGRATION', `migration ${m.version} (${m.name}) failed: ${(e as Error).message}`, { cause: e });
        }
      }
      return done;
    } catch (e) {
      throw classifyPgError(e, 'migrate');
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`livescope-migrate-${this.schema}`]).catch(() => undefined);
      client.release();
    }
  }

  /** The partition's committed position and org-wide state, creating its row on first use. */
  async loadPartition(topic: string, partition: number): Promise<PartitionRecord> {
    await this.query('INSERT INTO partition_state (topic, partition, next_offset) VALUES ($1, $2, -1) ON CONFLICT DO NOTHING', [topic, partition], 'create partition row');
    const { rows } = await this.query<{ next_offset: string; globals: string | null; policies: string | null }>('SELECT next_offset, globals, policies FROM partition_state WHERE topic = $1 AND partition = $2', [topic, partition], 'load partition');
    const row = rows[0]!;
    const tail = await this.query<{ seq: string; hash: Buffer }>('SELECT seq, hash FROM audit_log WHERE partition = $1 ORDER BY seq DESC LIMIT 1', [partition], 'load audit tail');
    const last = tail.rows[0];
    return { nextOffset: BigInt(row.next_offset), globals: row.globals, policies: row.policies, auditTail: last ? { seq: Number(last.seq), hash: last.hash } : { seq: 0, hash: GENESIS_HASH } };
  }

  /** Streams a partition's identity states in chunks (keyset pagination; constant memory). */
  async *identitiesOf(partition: number, chunk = 5000): AsyncGenerator<{ identityId: string; state: string }[]> {
    const page = (after: string): Promise<pg.QueryResult<{ identity_id: string; state: string }>> =>
      this.query<{ identity_id: string; state: string }>('SELECT identity_id, state FROM identity_state WHERE partition = $1 AND identity_id > $2 ORDER BY identity_id LIMIT $3', [partition, after, chunk], 'load identities');
    let next: Promise<pg.QueryResult<{ identity_id: string; state: string }>> | undefined = page('');
    while (next) {
      const { rows }: pg.QueryResult<{ identity_id: string; state: string }> = await next;
      if (rows.length === 0) return;
      // The next page is read while the caller decodes this one (PostgreSQL works on another core).
      next = rows.length < chunk ? undefined : page(rows[rows.length - 1]!.identity_id);
      next?.catch(() => undefined);
      yield rows.map((r) => ({ identityId: r.identity_id, state: r.state }));
    }
  }

  /** The states of the given identities of a partition that PostgreSQL holds (any order; ids it does not hold are left out). */
  async identitiesByIds(partition: number, ids: readonly string[]): Promise<{ identityId: string; state: string }[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.query<{ identity_id: string; state: string }>('SELECT identity_id, state FROM identity_state WHERE partition = $1 AND identity_id = ANY($2::text[])', [partition, [...ids]], 'load identities by id');
    return rows.map((r) => ({ identityId: r.identity_id, state: r.state }));
  }

  /**
   * The states of a partition's identities whose wake-up instant (`wake_at`, the next timer) lies in
   * (`afterMs`, `untilMs`], epoch ms; `afterMs` undefined = from the earliest.
   */
  async identitiesWaking(partition: number, afterMs: number | undefined, untilMs: number): Promise<{ identityId: string; state: string }[]> {
    // Two statements rather than an optional bound, so that each plan is a plain range scan of identity_state_partition_wake.
    const { rows } =
      afterMs === undefined
        ? await this.query<{ identity_id: string; state: string }>('SELECT identity_id, state FROM identity_state WHERE partition = $1 AND wake_at <= to_timestamp($2::float8 / 1000.0)', [partition, untilMs], 'load identities by wake-up')
        : await this.query<{ identity_id: string; state: string }>(
            'SELECT identity_id, state FROM identity_state WHERE partition = $1 AND wake_at > to_timestamp($2::float8 / 1000.0) AND wake_at <= to_timestamp($3::float8 / 1000.0)',
            [partition, afterMs, untilMs],
            'load identities by wake-up',
          );
    return rows.map((r) => ({ identityId: r.identity_id, state: r.state }));
  }

  /**
   * Commits a processed batch atomically: states, org-wide state, audit rows and the new offset —
   * all or nothing, and only if the partition row still holds `expectedOffset`. Returns the new
   * audit tail. Throws StoreError FENCED when another worker moved the partition on.
   */
  async commitBatch(b: BatchCommit, tail: ChainTail): Promise<ChainTail> {
    const audit = chain(
      tail,
      b.audit.map((r) => ({ ...r, partition: b.partition })),
    );
    const { rows } = await this.query<{ fenced: string }>(
      `WITH fence AS (
         UPDATE partition_state SET next_offset = $3, owner = $4, updated_at = now(),
                globals = COALESCE($5, globals), policies = COALESCE($6, policies)
          WHERE topic = $1 AND partition = $2 AND next_offset = $7
         RETURNING 1
       ), st AS (
         INSERT INTO identity_state (identity_id, partition, version, status, wake_at, state, updated_at)
         SELECT u->>0, $2, (u->>1)::bigint, u->>2, to_timestamp((u->>3)::float8 / 1000.0), u->>4, now()
           FROM json_array_elements($8::json) AS u
          WHERE EXISTS (SELECT 1 FROM fence)
         ON CONFLICT (identity_id) DO UPDATE
            SET partition = EXCLUDED.partition, version = EXCLUDED.version, status = EXCLUDED.status,
                wake_at = EXCLUDED.wake_at, state = EXCLUDED.state, updated_at = EXCLUDED.updated_at
       ), au AS (
         INSERT INTO audit_log (partition, seq, at, kind, identity_id, version, actor, event_id, payload, prev_hash, hash, chain_version)
         SELECT $2, (a->>0)::bigint,
                -- exact integer arithmetic: no text parsing (years 0000-9999 all work), no float rounding
                'epoch'::timestamptz + ((a->>1)::bigint / 1000) * interval '1 second' + ((a->>1)::bigint % 1000) * interval '1 millisecond',
                a->>2, a->>3, (a->>4)::bigint, a->>5, a->>6, a->>7, decode(a->>8, 'hex'), decode(a->>9, 'hex'), (a->>10)::smallint
           FROM json_array_elements($9::json) AS a
          WHERE EXISTS (SELECT 1 FROM fence)
       )
       SELECT count(*)::text AS fenced FROM fence`,
      [b.topic, b.partition, b.nextOffset.toString(), b.owner, b.globals ?? null, b.policies ?? null, b.expectedOffset.toString(), identityRowsJson(b.identities), auditRowsJson(audit)],
      'commit batch',
    );
    if (rows[0]?.fenced !== '1') {
      throw new StoreError('FENCED', `partition ${b.topic}/${b.partition} is no longer at offset ${b.expectedOffset}: another worker applied it`, { context: { topic: b.topic, partition: b.partition } });
    }
    const last = audit[audit.length - 1];
    return last ? { seq: last.seq, hash: last.hash } : tail;
  }

  /**
   * The head of each given partition's chain (its last row) with the partition's committed offset,
   * in one snapshot. Partitions without a chain row, or without a row in partition_state for
   * `topic`, are left out.
   */
  async auditChainHeads(topic: string, partitions: readonly number[]): Promise<AuditChainHead[]> {
    if (partitions.length === 0) return [];
    const { rows } = await this.query<{ partition: number; next_offset: string; seq: string; hash: Buffer }>(
      `SELECT p.partition, p.next_offset::text AS next_offset, a.seq::text AS seq, a.hash
         FROM partition_state p
         CROSS JOIN LATERAL (SELECT seq, hash FROM audit_log WHERE partition = p.partition ORDER BY seq DESC LIMIT 1) a
        WHERE p.topic = $1 AND p.partition = ANY($2::int[])
        ORDER BY p.partition`,
      [topic, [...partitions]],
      'read audit chain heads',
    );
    return rows.map((r) => ({ partition: r.partition, seq: Number(r.seq), hash: r.hash, nextOffset: BigInt(r.next_offset) }));
  }

  /**
   * Walks every partition's chain (links, hashes in the row's chain format) and checks every given
   * signed head against it; reports the first problem of each partition. Accepts the progress
   * callback alone, as before heads existed.
   */
  async verifyAudit(options: VerifyAuditOptions | ((rows: number) => void) = {}): Promise<AuditVerification> {
    const o: VerifyAuditOptions = typeof options === 'function' ? { onProgress: options } : options;
    const heads = o.heads ?? new Map<number, readonly AuditHeadRef[]>();
    const pageRows = o.pageRows ?? 5000;
    // Distinct partitions by a loose index scan on the primary key, not a scan of the whole table.
    const { rows: parts } = await this.query<{ partition: number }>(
      `WITH RECURSIVE p AS (
         SELECT min(partition) AS partition FROM audit_log
         UNION ALL
         SELECT (SELECT min(a.partition) FROM audit_log a WHERE a.partition > p.partition) FROM p WHERE p.partition IS NOT NULL
       ) SELECT partition FROM p WHERE partition IS NOT NULL`,
      [],
      'list audit partitions',
    );
    const withRows = new Set(parts.map((r) => r.partition));
    const partitions = [...new Set([...withRows, ...[...heads.entries()].filter(([, hs]) => hs.some((h) => h.seq > 0)).map(([p]) => p)])].sort((a, b) => a - b);
    const problems: AuditProblem[] = [];
    const partitionsWithoutHead: number[] = [];
    let total = 0;
    let headsChecked = 0;
    for (const partition of partitions) {
      const verifier = new PartitionChainVerifier(partition, heads.get(partition) ?? []);
      let problem: AuditProblem | undefined;
      for (let after = 0; !problem; ) {
        const { rows } = await this.query<{ seq: string; chain_version: number; at_ms: string; kind: string; identity_id: string | null; version: string | null; actor: string | null; event_id: string | null; payload: string; prev_hash: Buffer; hash: Buffer }>(
          `SELECT seq::text AS seq, chain_version, floor(extract(epoch FROM at) * 1000)::text AS at_ms, kind, identity_id, version::text AS version, actor, event_id, payload, prev_hash, hash
             FROM audit_log WHERE partition = $1 AND seq > $2 ORDER BY audit_log.seq LIMIT $3`,
          [partition, after, pageRows],
          'read audit',
        );
        if (rows.length === 0) break;
        const before = verifier.rows;
        for (const r of rows) {
          problem = verifier.push({ partition, seq: Number(r.seq), chainVersion: r.chain_version, atMs: Number(r.at_ms), kind: r.kind, identityId: r.identity_id, version: r.version === null ? null : Number(r.version), actor: r.actor, eventId: r.event_id, payload: r.payload, prevHash: r.prev_hash, hash: r.hash });
          if (problem) break;
        }
        total += verifier.rows - before;
        o.onProgress?.(total);
        after = Number(rows[rows.length - 1]!.seq);
      }
      problem ??= verifier.finish();
      if (problem) problems.push(problem);
      headsChecked += verifier.headsMatched;
      if (o.heads && withRows.has(partition) && verifier.headsMatched === 0 && !problem) partitionsWithoutHead.push(partition);
    }
    const first = problems[0];
    return {
      ok: problems.length === 0,
      partitions: partitions.length,
      rows: total,
      ...(first ? { firstBad: { partition: first.partition, seq: first.seq, problem: first.problem, detail: first.detail } } : {}),
      problems,
      headsChecked,
      partitionsWithoutHead,
    };
  }

  // --- views for the control plane -----------------------------------------------------------
  async identityState(identityId: string): Promise<{ partition: number; state: string } | undefined> {
    const { rows } = await this.query<{ partition: number; state: string }>('SELECT partition, state FROM identity_state WHERE identity_id = $1', [identityId], 'read identity');
    return rows[0];
  }

  async partitionGlobals(topic: string, partition: number): Promise<{ globals: string | null; policies: string | null } | undefined> {
    const { rows } = await this.query<{ globals: string | null; policies: string | null }>('SELECT globals, policies FROM partition_state WHERE topic = $1 AND partition = $2', [topic, partition], 'read partition');
    return rows[0];
  }

  async auditOf(identityId: string, options: { kinds?: readonly string[]; version?: number; limit?: number } = {}): Promise<AuditRecord[]> {
    const { rows } = await this.query<{ partition: number; seq: string; at: Date; kind: string; identity_id: string | null; version: string | null; actor: string | null; event_id: string | null; payload: string }>(
      `SELECT partition, seq, at, kind, identity_id, version, actor, event_id, payload FROM audit_log
        WHERE identity_id = $1 AND ($2::text[] IS NULL OR kind = ANY($2)) AND ($3::bigint IS NULL OR version = $3)
        ORDER BY version DESC NULLS LAST, seq DESC LIMIT $4`,
      [identityId, options.kinds ?? null, options.version ?? null, options.limit ?? 100],
      'read audit of identity',
    );
    return rows.map((r) => ({ partition: r.partition, seq: Number(r.seq), at: r.at.toISOString(), kind: r.kind, identityId: r.identity_id, version: r.version === null ? null : Number(r.version), actor: r.actor, eventId: r.event_id, payload: r.payload }));
  }

  async query<R extends pg.QueryResultRow>(sql: string, params: readonly unknown[], what: string): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, params as unknown[]);
    } catch (e) {
      throw classifyPgError(e, what);
    }
  }

  private async connect(what: string): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (e) {
      throw classifyPgError(e, what);
    }
  }
}
