import { classifyPgError, type Store } from '@livescope/store';
import type pg from 'pg';
import { cpMigrations } from './cpMigrations.js';

export type PgClient = pg.PoolClient;

/**
 * The control plane's PostgreSQL access shared by its features: migrating its own `cp_` tables and
 * running a unit of work in one transaction (the Kafka consumers store their effects and offsets
 * together). Each feature reads and writes its tables through its own repository.
 */
export class Database {
  constructor(readonly store: Store) {}

  /** Applies missing control-plane migrations in order, under an advisory lock. */
  async migrate(): Promise<number[]> {
    const client = await this.connect('migrate control plane');
    const lock = `livescope-cp-migrate-${this.store.schema}`;
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [lock]);
      await client.query('CREATE TABLE IF NOT EXISTS cp_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
      const { rows } = await client.query<{ version: number }>('SELECT version FROM cp_schema_migrations');
      const applied = new Set(rows.map((r) => r.version));
      const known = Math.max(...cpMigrations.map((m) => m.version));
      const newest = Math.max(0, ...applied);
      if (newest > known) throw new Error(`control-plane tables in ${this.store.schema} are at version ${newest}, newer than this code (${known}); upgrade livescope`);
      const done: number[] = [];
      for (const m of cpMigrations) {
        if (applied.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO cp_schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await client.query('COMMIT');
          done.push(m.version);
        } catch (e) {
          await client.query('ROLLBACK');
          throw new Error(`control-plane migration ${m.version} (${m.name}) failed: ${(e as Error).message}`, { cause: e });
        }
      }
      return done;
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lock]).catch(() => undefined);
      client.release();
    }
  }

  /** Runs `fn` in one transaction; errors `fn` throws pass through unchanged after the rollback. */
  async transaction<T>(what: string, fn: (client: PgClient) => Promise<T>): Promise<T> {
    const client = await this.connect(what);
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  private async connect(what: string): Promise<PgClient> {
    try {
      return await this.store.pool.connect();
    } catch (e) {
      throw classifyPgError(e, what);
    }
  }
}
