import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { JsonOptions } from '@kafkajs/confluent-schema-registry/dist/@types.js';
import { jsonSchemaOf, type SubjectSpec } from '@livescope/contracts';
import { TransportError } from './TransportError.js';

export interface RegisteredSubject {
  readonly subject: string;
  /** Schema id of the current (latest) version: what producers encode with. */
  readonly id: number;
}

/**
 * The schema registry, spoken through its Confluent-compatible API (Apicurio Registry's
 * `/apis/ccompat/v7`, or Confluent's). Registration goes through @kafkajs/confluent-schema-registry;
 * the read-only lookups used on the decode path are plain HTTP with a cache, so that a message
 * written with a newer version of a subject is recognised without a restart.
 */
/**
 * The library compiles every JSON schema it registers into an ajv validator for its own
 * `encode()`, which livescope never calls (events and commands are validated with the zod
 * contracts). Compiling the ten subjects took ~0.7 s of CPU at every start-up (restart time, see
 * docs/performance.md), so the library gets an "ajv" whose validators refuse to be used.
 */
const noValidation = {
  addSchema(): never {
    throw new Error('schema references are not used by livescope');
  },
  compile(): ((data: unknown) => boolean) & { errors: null } {
    const refuse = (): boolean => {
      throw new Error('payload validation through @kafkajs/confluent-schema-registry is not used by livescope: validate with the @livescope/contracts zod schemas');
    };
    return Object.assign(refuse, { errors: null });
  },
};

export class SchemaRegistryClient {
  private readonly registry: SchemaRegistry;
  private readonly idsBySubject = new Map<string, Set<number>>();
  private readonly checkedUnknown = new Map<number, number>();

  constructor(
    readonly url: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.registry = new SchemaRegistry({ host: url, clientId: 'livescope' }, { [SchemaType.JSON]: { ajvInstance: noValidation as unknown as NonNullable<JsonOptions['ajvInstance']> } });
  }

  /** Registers (idempotently) the JSON Schema of every subject with BACKWARD compatibility. */
  async registerAll(specs: readonly SubjectSpec[]): Promise<Map<string, RegisteredSubject>> {
    // Subjects are independent: registered concurrently (each takes several round trips).
    const registered = await Promise.all(specs.map((spec) => this.registerOne(spec)));
    return new Map(registered.map((r) => [r.subject, r]));
  }

  private async registerOne(spec: SubjectSpec): Promise<RegisteredSubject> {
    for (let attempt = 1; ; attempt++) {
      try {
        const { id } = await this.registry.register({ type: SchemaType.JSON, schema: JSON.stringify(jsonSchemaOf(spec)) }, { subject: spec.subject, compatibility: COMPATIBILITY.BACKWARD });
        this.idsOf(spec.subject).add(id);
        return { subject: spec.subject, id };
      } catch (cause) {
        // The client library creates a new subject, then its compatibility rule, in two calls.
        // Two processes registering at once (a worker and the control plane at start-up) see
        // the rule created twice (409 "already exists") or the subject without its rule yet
        // ("BACKWARD != NONE"); a process stopped between the two calls leaves the subject
        // without a rule for good. Wait for the other process first; then set the rule (these
        // subjects are livescope's and are BACKWARD by contract) and register again.
        if (attempt < 5 && isRegistrationRace(cause)) {
          await new Promise((r) => setTimeout(r, 100 * attempt));
          if (attempt >= 2) await this.putCompatibility(spec.subject, 'BACKWARD');
          continue;
        }
        throw classify(cause, `registering ${spec.subject}`);
      }
    }
  }

  /** Every schema id registered under a subject (all versions). */
  async loadSubjectIds(subject: string): Promise<Set<number>> {
    const versions = await this.getJson<number[]>(`/subjects/${encodeURIComponent(subject)}/versions`);
    const ids = this.idsOf(subject);
    for (const v of versions) {
      const s = await this.getJson<{ id: number }>(`/subjects/${encodeURIComponent(subject)}/versions/${v}`);
      ids.add(s.id);
    }
    return ids;
  }

  /** Whether `id` is a version of `subject` as far as known without I/O. */
  isKnown(subject: string, id: number): boolean {
    return this.idsOf(subject).has(id);
  }

  /**
   * Looks an unknown id up once (then at most every `recheckMs`), so a burst of bad messages with
   * an unknown id costs one request, and a newly registered version is picked up.
   */
  async refreshUnknown(subject: string, id: number, nowMs: number, recheckMs = 30_000): Promise<boolean> {
    if (this.isKnown(subject, id)) return true;
    const last = this.checkedUnknown.get(id);
    if (last !== undefined && nowMs - last < recheckMs) return false;
    this.checkedUnknown.set(id, nowMs);
    await this.loadSubjectIds(subject);
    return this.isKnown(subject, id);
  }

  /** Readiness: the registry answers its subject listing. */
  async ping(): Promise<void> {
    await this.getJson<string[]>('/subjects');
  }

  private idsOf(subject: string): Set<number> {
    let s = this.idsBySubject.get(subject);
    if (!s) this.idsBySubject.set(subject, (s = new Set()));
    return s;
  }

  private async putCompatibility(subject: string, compatibility: 'BACKWARD'): Promise<void> {
    const res = await this.fetchImpl(`${this.url}/config/${encodeURIComponent(subject)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility }),
      signal: AbortSignal.timeout(5000),
    }).catch((cause: unknown) => {
      throw new TransportError('REGISTRY_UNAVAILABLE', 'transient', `schema registry at ${this.url} is unreachable`, { cause });
    });
    // 409: another process created the rule in the meantime, which is what we wanted.
    if (!res.ok && res.status !== 409) throw new TransportError(res.status >= 500 ? 'REGISTRY_UNAVAILABLE' : 'REGISTRY_REJECTED', res.status >= 500 ? 'transient' : 'fatal', `setting ${compatibility} on ${subject}: the registry answered ${res.status}`);
  }

  private async getJson<T>(path: string): Promise<T> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.url}${path}`, { signal: AbortSignal.timeout(5000) });
    } catch (cause) {
      throw new TransportError('REGISTRY_UNAVAILABLE', 'transient', `schema registry at ${this.url} is unreachable`, { cause });
    }
    if (res.status >= 500) throw new TransportError('REGISTRY_UNAVAILABLE', 'transient', `schema registry answered ${res.status} for ${path}`);
    if (!res.ok) throw new TransportError('REGISTRY_REJECTED', 'fatal', `schema registry answered ${res.status} for ${path}`);
    return (await res.json()) as T;
  }
}

/** The two transient outcomes of registering one new subject from two processes at once. */
export function isRegistrationRace(cause: unknown): boolean {
  if (!(cause instanceof Error)) return false;
  const status = (cause as { status?: number }).status;
  if (status === 409 && /rule named .* already exists/i.test(cause.message)) return true;
  return cause.name === 'ConfluentSchemaRegistryCompatibilityError' && /BACKWARD != NONE/.test(cause.message);
}

function classify(cause: unknown, what: string): TransportError {
  const message = cause instanceof Error ? cause.message : String(cause);
  const status = (cause as { status?: number }).status;
  if (status !== undefined && status < 500) return new TransportError('REGISTRY_REJECTED', 'fatal', `${what}: the registry refused (${status}): ${message}`, { cause });
  return new TransportError('REGISTRY_UNAVAILABLE', 'transient', `${what}: ${message}`, { cause });
}
