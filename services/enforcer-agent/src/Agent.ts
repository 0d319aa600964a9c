import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import { Enforcer, type EnforcerOptions } from '@livescope/enforcer';
import { kafkaConnection, registryAuth } from '@livescope/runtime';
import { parsePrivateKey, parsePublicKey, type Logger } from '@livescope/transport';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { AgentMetrics } from './AgentMetrics.js';
import { CheckService } from './CheckService.js';
import type { AgentConfig } from './config.js';
import { envoyProtoDir, startExtAuthzServer, stopExtAuthzServer } from './ExtAuthzServer.js';
import { createHttpApi } from './HttpApi.js';
import { IdentityResolver } from './IdentityResolver.js';
import { RouteTable } from './RouteTable.js';
import { ScopeWatch } from './ScopeWatch.js';

/**
 * livescope-enforcer: the enforcer SDK behind network APIs. `start()` serves the HTTP API at once
 * (every check is denied `not-ready` until the scope of every identity has been read, /readyz says
 * 503 meanwhile), then starts the enforcer; `done` settles when the agent stops (resolves) or its
 * enforcer fails for good (rejects). `stop()` stops taking checks, lets those in flight finish within
 * the grace period, then stops the enforcer (its last acknowledgements and high-water file).
 */
export class Agent {
  readonly enforcer: Enforcer;
  readonly registry = new Registry();
  readonly checks: CheckService;
  readonly watch: ScopeWatch;
  readonly metrics: AgentMetrics;
  private readonly http: Server;
  private grpcServer: grpc.Server | undefined;
  private ready = false;
  private stopping: Promise<void> | undefined;
  /** Where the HTTP API and (when on) the gRPC API listen, once started. */
  httpPort = 0;
  grpcPort: number | undefined;

  constructor(
    private readonly config: AgentConfig,
    private readonly logger: Logger,
    extra: Partial<EnforcerOptions> = {},
  ) {
    collectDefaultMetrics({ register: this.registry });
    const c = config;
    const k = kafkaConnection(c);
    this.enforcer = new Enforcer({
      brokers: k.brokers,
      ...(k.ssl ? { ssl: k.ssl } : {}),
      ...(k.sasl ? { sasl: k.sasl } : {}),
      registryUrl: c.registryUrl,
      registryAuth: registryAuth(c),
      enforcerId: c.enforcerId,
      trustedKeys: Object.entries(c.trustedKeys).map(([kid, key]) => parsePublicKey(kid, key)),
      minKeyEpoch: c.minKeyEpoch,
      logger,
      topicPrefix: c.topicPrefix,
      sensitiveActions: c.sensitiveActions,
      maxStalenessMs: c.maxStalenessMs,
      requireSession: c.requireSession,
      metricsRegistry: this.registry,
      startupTimeoutMs: c.startupTimeoutMs,
      ...(c.highWaterFile !== undefined ? { highWaterFile: c.highWaterFile } : {}),
      ...(c.ackSigningKeyId !== undefined && c.ackSigningKey !== undefined ? { ackSigningKey: parsePrivateKey(c.ackSigningKeyId, c.ackSigningKey) } : {}),
      ...extra,
    });
    const identities = new IdentityResolver({
      sources: c.identitySources,
      ...(c.identitySources.includes('jwt')
        ? {
            jwt: {
              ...(c.jwksUrl !== undefined ? { jwksUrl: c.jwksUrl } : {}),
              ...(c.jwks !== undefined ? { jwks: c.jwks } : {}),
              issuer: c.jwtIssuer!,
              audience: c.jwtAudience!,
              algorithms: c.jwtAlgorithms,
              identityClaim: c.jwtIdentityClaim,
              ...(c.jwtSessionClaim !== undefined ? { sessionClaim: c.jwtSessionClaim } : {}),
              clockToleranceS: c.jwtClockToleranceS,
              cacheMs: c.jwtCacheMs,
            },
          }
        : {}),
      ...(c.spiffeTrustDomains !== undefined ? { spiffe: { header: c.spiffeHeader, trustDomains: c.spiffeTrustDomains } } : {}),
      ...(c.identityHeader !== undefined ? { header: { identity: c.identityHeader, ...(c.sessionHeader !== undefined ? { session: c.sessionHeader } : {}) } } : {}),
    });
    this.checks = new CheckService({ enforcer: this.enforcer, identities, routes: new RouteTable(c.routes, c.maxPathBytes), ready: () => this.ready, trustCallerIdentity: c.trustCallerIdentity });
    this.watch = new ScopeWatch(this.enforcer.state, () => this.checks.served.keys(), c.watchIntervalMs, c.maxWatchers, () => this.staleness());
    this.metrics = new AgentMetrics(this.registry, () => this.watch.size);
    this.http = createHttpApi({ checks: this.checks, watch: this.watch, metrics: this.metrics, registry: this.registry, ready: () => this.readiness(), maxBodyBytes: c.maxBodyBytes, maxBatch: c.maxBatch, forwardHeaders: c.forwardHeaders });
  }

  /** Why the held scope may be stale now (the SDK's rule for sensitive actions, over every partition), or undefined. */
  staleness(): string | undefined {
    const state = this.enforcer.state;
    if (state.degraded !== undefined) return state.degraded;
    if (!this.ready) return 'the agent has not yet read the scope of every identity';
    const now = Date.now();
    if (state.liveness.size === 0) return 'nothing heard from the pipeline yet';
    for (const p of state.liveness.keys()) {
      const why = state.staleness(p, now, this.config.maxStalenessMs);
      if (why !== undefined) return why;
    }
    return undefined;
  }

  readiness(): { ok: boolean; checks: Record<string, string> } {
    const status = this.enforcer.status;
    const checks: Record<string, string> = { enforcer: status, scope: this.ready ? 'read' : 'reading', identities: String(this.enforcer.state.identities.size) };
    if (this.enforcer.state.degraded !== undefined) checks.degraded = 'sensitive actions fail closed';
    return { ok: this.ready && status === 'running', checks };
  }

  /** Serves, starts the enforcer; resolves once the scope is read (checks are answered from then on). */
  async start(): Promise<void> {
    const c = this.config;
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(c.httpPort, c.httpHost, () => resolve());
    });
    this.httpPort = (this.http.address() as AddressInfo).port;
    if (c.grpcPort >= 0) {
      const protoDir = await envoyProtoDir(c.envoyProtoDir);
      const g = await startExtAuthzServer({ checks: this.checks, metrics: this.metrics, protoDir, host: c.httpHost, port: c.grpcPort });
      this.grpcServer = g.server;
      this.grpcPort = g.port;
    }
    this.logger.info({ enforcerId: c.enforcerId, httpPort: this.httpPort, grpcPort: this.grpcPort, identitySources: c.identitySources, routes: c.routes.length }, 'livescope-enforcer serving (checks denied until the scope is read)');
    try {
      await this.enforcer.start();
      await this.enforcer.ready;
    } catch (e) {
      await this.closeServers();
      throw e;
    }
    this.ready = true;
    this.logger.info({ enforcerId: c.enforcerId, identities: this.enforcer.state.identities.size }, 'livescope-enforcer ready');
  }

  /** Settles when the enforcer ends: resolves once stopped, rejects when it failed for good. */
  get done(): Promise<void> {
    return this.enforcer.run();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.closeServers();
      await this.enforcer.stop();
    })();
    return this.stopping;
  }

  private async closeServers(): Promise<void> {
    const grace = this.config.graceMs;
    this.watch.close();
    const http = new Promise<void>((resolve) => {
      if (!this.http.listening) return resolve();
      const force = setTimeout(() => this.http.closeAllConnections(), grace);
      this.http.close(() => {
        clearTimeout(force);
        resolve();
      });
      this.http.closeIdleConnections();
    });
    await Promise.all([http, this.grpcServer ? stopExtAuthzServer(this.grpcServer, grace) : Promise.resolve()]);
  }
}
