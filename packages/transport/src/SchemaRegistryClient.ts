import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { JsonOptions } from '@kafkajs/confluent-schema-registry/dist/@types.js';
import { createRequire } from 'node:module';
import { jsonSchemaOf, type SubjectSpec } from '@livescope/contracts';
import { TransportError } from './TransportError.js';

/** How to authenticate to the registry and trust its certificate. Every field is optional. */
export interface RegistryClientOptions {
  /** HTTP basic-auth user. Default: no authentication. */
  readonly username?: string;
  /** HTTP basic-auth password (read where it is: a non-enumerable field stays hidden). */
  readonly password?: string;
  /** PEM file of the CA(s) that signed the registry's certificate (https URLs). Default: the system's trusted CAs. */
  readonly caFile?: string;
  /** Longest wait for one registry answer, in ms. Default 30,000 (Apicurio under load has taken over 5 s to answer a PUT). */
  readonly requestTimeoutMs?: number;
}

export interface RegisteredSubject {
  readonly subject: string;
  /** Schema id of the current (latest) version: what producers encode with. */
  readonly id: number;
}

/**
 * Bounds every request the registry library makes: it sets no timeout of its own, so a registry
 * that accepts the connection and never answers (as one can right after a cold start) hung the
 * caller's start-up for good.
 */
type Middleware = NonNullable<ConstructorParameters<typeof SchemaRegistry>[0]['middlewares']>[number];

function requestTimeout(ms: number): Middleware {
  return () => ({
    async prepareRequest(next) {
      const request = await next();
      return request.timeout() ? request : request.enhance({ timeout: ms });
    },
  });
}

// A timed-out request answers 408 instead of mappersmith's default 400, so that `classify` below
// sees a timeout (retried: the registry is unavailable) rather than a refusal. Process-wide
// mappersmith setting; the registry library is the only user of mappersmith in livescope. It is set
// on the very copy the library loads: resolved from the library, as CommonJS (an ESM import of
// mappersmith is another instance, and a bundle of @livescope/enforcer may sit elsewhere).
const libraryRequire = createRequire(createRequire(import.meta.url).resolve('@kafkajs/confluent-schema-registry'));
(libraryRequire('mappersmith') as { configs: { gatewayConfigs: { enableHTTP408OnTimeouts: boolean } } }).configs.gatewayConfigs.enableHTTP408OnTimeouts = true;

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
  /** One keep-alive agent for the library's requests and ours, carrying the CA when given. */
  private readonly agent: HttpAgent;
  private readonly requestTimeoutMs: number;
  private readonly authorization: string | undefined;

  constructor(
    readonly url: string,
    options: RegistryClientOptions = {},
  ) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    const https = url.startsWith('https:');
    let ca: Buffer | undefined;
    if (options.caFile !== undefined) {
      if (!https) throw new TransportError('CLIENT_CONFIG', 'fatal', `a registry CA file is set, but the registry URL ${url} is not https`);
      try {
        ca = readFileSync(options.caFile);
      } catch (cause) {
        throw new TransportError('CLIENT_CONFIG', 'fatal', `cannot read the registry CA file ${options.caFile}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
      }
    }
    if ((options.username === undefined) !== (options.password === undefined)) throw new TransportError('CLIENT_CONFIG', 'fatal', 'registry basic auth needs both a username and a password');
    this.agent = https ? new HttpsAgent({ keepAlive: true, ...(ca ? { ca } : {}) }) : new HttpAgent({ keepAlive: true });
    const auth = options.username !== undefined && options.password !== undefined ? { username: options.username, password: options.password } : undefined;
    this.authorization = auth ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` : undefined;
    this.registry = new SchemaRegistry(
      { host: url, clientId: 'livescope', agent: this.agent, middlewares: [requestTimeout(this.requestTimeoutMs)], ...(auth ? { auth } : {}) },
      { [SchemaType.JSON]: { ajvInstance: noValidation as unknown as NonNullable<JsonOptions['ajvInstance']> } },
    );
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
        // No answer within the request timeout (408, see requestTimeout): a slow registry, tried
        // again in place twice before the caller sees it as unavailable.
        if (attempt < 3 && (cause as { status?: number }).status === 408) {
          await new Promise((r) => setTimeout(r, 200 * attempt));
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

  /**
   * Readiness: the registry answers its global compatibility setting — a constant-size answer. (The
   * subject listing grows with every topic the registry has ever seen: at a thousand subjects it
   * took Apicurio over 3 s, and readiness probes timed out against a healthy registry.)
   */
  async ping(): Promise<void> {
    await this.getJson<unknown>('/config');
  }

  private idsOf(subject: string): Set<number> {
    let s = this.idsBySubject.get(subject);
    if (!s) this.idsBySubject.set(subject, (s = new Set()));
    return s;
  }

  private async putCompatibility(subject: string, compatibility: 'BACKWARD'): Promise<void> {
    const res = await this.http('PUT', `/config/${encodeURIComponent(subject)}`, JSON.stringify({ compatibility }));
    // 409: another process created the rule in the meantime, which is what we wanted.
    if (res.status >= 300 && res.status !== 409) throw new TransportError(res.status >= 500 ? 'REGISTRY_UNAVAILABLE' : 'REGISTRY_REJECTED', res.status >= 500 ? 'transient' : 'fatal', `setting ${compatibility} on ${subject}: the registry answered ${res.status}`);
  }

  private async getJson<T>(path: string): Promise<T> {
    const res = await this.http('GET', path);
    if (res.status >= 500) throw new TransportError('REGISTRY_UNAVAILABLE', 'transient', `schema registry answered ${res.status} for ${path}`);
    if (res.status >= 300) throw new TransportError('REGISTRY_REJECTED', 'fatal', `schema registry answered ${res.status} for ${path}`);
    try {
      return JSON.parse(res.body) as T;
    } catch (cause) {
      throw new TransportError('REGISTRY_REJECTED', 'fatal', `schema registry answered ${path} with a body that is not JSON`, { cause });
    }
  }

  /** One request through the client's agent (its CA) with its credentials; 5 s for the whole exchange. */
  private http(method: 'GET' | 'PUT', path: string, body?: string): Promise<{ status: number; body: string }> {
    const unreachable = (cause: unknown): TransportError => {
      const code = (cause as NodeJS.ErrnoException).code ?? '';
      // A certificate the client does not trust is configuration, not an outage: retrying changes nothing.
      if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code)) {
        return new TransportError('REGISTRY_REJECTED', 'fatal', `the schema registry's TLS certificate at ${this.url} is not trusted (${code}); give its CA (LIVESCOPE_REGISTRY_CA_FILE)`, { cause });
      }
      return new TransportError('REGISTRY_UNAVAILABLE', 'transient', `schema registry at ${this.url} is unreachable`, { cause });
    };
    return new Promise((resolve, reject) => {
      const target = new URL(`${this.url}${path}`);
      const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json, application/json' };
      if (body !== undefined) headers['content-type'] = 'application/vnd.schemaregistry.v1+json';
      if (this.authorization !== undefined) headers.authorization = this.authorization;
      const req = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, { method, headers, agent: this.agent, timeout: this.requestTimeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => reject(unreachable(e)));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.requestTimeoutMs} ms`)));
      req.on('error', (e) => reject(unreachable(e)));
      req.end(body);
    });
  }

  /** Closes the kept-alive connections (the process may exit without it; tests close). */
  close(): void {
    this.agent.destroy();
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
  // 408: no answer within the request timeout; 429: the registry sheds load. Both pass.
  if (status !== undefined && status < 500 && status !== 408 && status !== 429) return new TransportError('REGISTRY_REJECTED', 'fatal', `${what}: the registry refused (${status}): ${message}`, { cause });
  return new TransportError('REGISTRY_UNAVAILABLE', 'transient', `${what}: ${message}`, { cause });
}
