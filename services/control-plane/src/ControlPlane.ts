import { subjectSpecsFor, topicNames, valueSubject, type TopicNames } from '@livescope/contracts';
import { kafkaConnection, registryAuth } from '@livescope/runtime';
import type { PolicyCompiler } from '@livescope/scope-engine';
import { Store } from '@livescope/store';
import { createKafka, createProducer, EventPublisher, SchemaRegistryClient, type Logger } from '@livescope/transport';
import type { FastifyInstance } from 'fastify';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { createApp, type RegisteredRoute } from './api/createApp.js';
import { apiDocument, type OpenApiDocument } from './api/openapi.js';
import { apiRoutes } from './api/routes.js';
import { loadOrCreateDevApiKey } from './auth/devKeys.js';
import { TokenVerifier } from './auth/TokenVerifier.js';
import { parseTrustedKey, type TrustedTokenKey } from './auth/verifyKeys.js';
import type { ControlPlaneConfig } from './config.js';
import { ControlPlaneMetrics } from './ControlPlaneMetrics.js';
import { ControlPlaneService } from './ControlPlaneService.js';
import { builtInPolicyCompiler } from './domain/policyCompiler.js';
import { alertSink } from './kafka/AlertSink.js';
import { CommandFollower } from './kafka/CommandFollower.js';
import { EnforcerAckSink } from './kafka/EnforcerAckSink.js';
import { EventSender } from './kafka/EventSender.js';
import { PgOffsetConsumer } from './kafka/PgOffsetConsumer.js';
import { ControlPlaneStore } from './persistence/ControlPlaneStore.js';
import { ConsoleAssets } from './console/ConsoleAssets.js';
import { ActivityWindow } from './tracking/ActivityWindow.js';
import { AlertBus } from './tracking/AlertBus.js';
import { CommandTracker } from './tracking/CommandTracker.js';

export interface ControlPlaneOptions {
  /** Policy compiler for explain; default: scope-engine's Cedar adapter `compileScopePolicy`, as the workers run it. */
  readonly compilePolicies?: PolicyCompiler;
  /** Check every JSON response against its schema (tests). Default false. */
  readonly validateResponses?: boolean;
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });

/**
 * The control-plane process: HTTP API over the workers' state of record, publisher of orders and
 * approvals, follower of commands and acknowledgements, and store of alerts and enforcer status.
 */
export class ControlPlane {
  readonly topics: TopicNames;
  readonly metrics = new ControlPlaneMetrics();
  readonly tracker = new CommandTracker();
  private store: Store | undefined;
  private kafka: Kafka | undefined;
  private admin: Admin | undefined;
  private producer: Producer | undefined;
  private follower: CommandFollower | undefined;
  private consumer: PgOffsetConsumer | undefined;
  private appInstance: FastifyInstance | undefined;
  private routesRegistered: RegisteredRoute[] = [];
  private document: OpenApiDocument | undefined;
  private address: string | undefined;

  constructor(
    readonly config: ControlPlaneConfig,
    private readonly logger: Logger,
    private readonly options: ControlPlaneOptions = {},
  ) {
    this.topics = topicNames(config.topicPrefix);
  }

  /** Base URL the API listens on, e.g. `http://127.0.0.1:8787`. */
  get url(): string {
    if (!this.address) throw new Error('the control plane is not started');
    return this.address;
  }

  get app(): FastifyInstance {
    if (!this.appInstance) throw new Error('the control plane is not started');
    return this.appInstance;
  }

  /** Method and path of every route Fastify registered. */
  get registeredRoutes(): readonly RegisteredRoute[] {
    return this.routesRegistered;
  }

  get openApiDocument(): OpenApiDocument {
    if (!this.document) throw new Error('the control plane is not started');
    return this.document;
  }

  async start(): Promise<string> {
    const { config, logger, metrics, tracker, topics } = this;
    const store = await Store.open({ connectionString: config.pgUrl, schema: config.pgSchema, applicationName: `livescope-control-plane ${config.instanceId}` });
    this.store = store;
    const cpStore = new ControlPlaneStore(store);
    const migrated = await cpStore.migrate();
    if (migrated.length) logger.info({ migrations: migrated }, 'control-plane tables migrated');

    const registry = new SchemaRegistryClient(config.registryUrl, registryAuth(config));
    const ids = await registry.registerAll(subjectSpecsFor(config.topicPrefix));
    const eventsSchemaId = ids.get(valueSubject(topics.events))!.id;

    const kafka = createKafka({ ...kafkaConnection(config), clientId: `livescope-control-plane-${config.instanceId}`, logger });
    this.kafka = kafka;
    const admin = kafka.admin();
    this.admin = admin;
    await admin.connect();
    const partitions = await EventPublisher.partitionCount(admin, topics.events);
    const producer = createProducer(kafka);
    this.producer = producer;
    await producer.connect();
    const sender = new EventSender(producer, new EventPublisher(producer, topics.events, eventsSchemaId, partitions), config.publishTimeoutMs);

    const bus = new AlertBus();
    const changeBus = new AlertBus();
    const activity = new ActivityWindow();
    const follower = new CommandFollower({ kafka, admin, topics, tracker, windowMs: config.trackingWindowMs, groupPrefix: config.groupId, logger, metrics, activity, onCommands: () => changeBus.notify() });
    this.follower = follower;
    const acks = new EnforcerAckSink(cpStore, metrics, logger);
    const storeAlerts = alertSink(cpStore, bus, metrics, logger);
    const consumer = new PgOffsetConsumer({
      kafka,
      store: cpStore,
      name: config.groupId,
      topics: [topics.driftAlerts, topics.enforcerAcks],
      handler: (client, batch) => (batch.topic === topics.driftAlerts ? storeAlerts(client, batch) : acks.handler(client, batch)),
      logger,
      metrics,
    });
    this.consumer = consumer;
    for (const o of await cpStore.orderEventsSince(new Date(Date.now() - config.trackingWindowMs).toISOString())) {
      if (o.eventId) tracker.expect(o.eventId, o.orderId, 'order.issued');
      if (o.liftEventId) tracker.expect(o.liftEventId, o.orderId, 'order.lifted');
    }
    await follower.start();
    await consumer.start();

    const verifier = new TokenVerifier({ keys: this.trustedKeys(), jwksUrl: config.jwt.jwksUrl, issuer: config.jwt.issuer, audience: config.jwt.audience, clockToleranceMs: config.jwt.clockToleranceMs });
    const compilePolicies = this.options.compilePolicies ?? builtInPolicyCompiler;
    const consoleAssets = ConsoleAssets.locate(config.consoleDir);
    if (consoleAssets.root) logger.info({ dir: consoleAssets.root }, 'serving the web console under /console/');
    else logger.warn({ problem: consoleAssets.problem }, 'the web console is not available');
    const service = new ControlPlaneService({
      config,
      topics,
      store: cpStore,
      sender,
      tracker,
      follower,
      bus,
      changeBus,
      activity,
      console: consoleAssets,
      metrics,
      logger,
      compilePolicies,
      openApi: () => this.document,
      renderMetrics: async () => ({ contentType: metrics.registry.contentType, text: await metrics.registry.metrics() }),
      readiness: async () => {
        const check = (p: Promise<unknown>, what: string): Promise<string> => withTimeout(p, 3000, what).then(
          () => 'ok',
          (e: Error) => e.message,
        );
        const [kafkaCheck, registryCheck, postgres] = await Promise.all([check(admin.describeCluster(), 'Kafka'), check(registry.ping(), 'the schema registry'), check(store.ping(), 'PostgreSQL')]);
        const consumers = [follower.health, consumer.health].every((h) => h === 'ok') ? 'ok' : `follower ${follower.health}; store consumer ${consumer.health}`;
        return { ready: [kafkaCheck, registryCheck, postgres, consumers].every((c) => c === 'ok'), checks: { kafka: kafkaCheck, registry: registryCheck, postgres, consumers } };
      },
    });
    const routes = apiRoutes(service);
    this.document = apiDocument(routes);
    const { app, registered } = await createApp({ routes, verifier, metrics, logger, rateLimitPerMinute: config.rateLimitPerMinute, validateResponses: this.options.validateResponses ?? false, staticRoot: consoleAssets.root });
    this.appInstance = app;
    this.routesRegistered = registered;
    const address = await app.listen({ host: config.host, port: config.port });
    this.address = address.replace('[::1]', '127.0.0.1');
    logger.info({ url: this.address, topicPrefix: config.topicPrefix, schema: config.pgSchema, partitions }, 'control plane listening');
    return this.address;
  }

  async stop(): Promise<void> {
    await this.appInstance?.close().catch((e: Error) => this.logger.warn({ err: e.message }, 'http close'));
    await this.follower?.stop();
    await this.consumer?.stop();
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    await this.store?.close().catch(() => undefined);
    this.logger.info('control plane stopped');
  }

  private trustedKeys(): TrustedTokenKey[] {
    const { jwt, devKeysPath } = this.config;
    if (jwt.keys.length > 0 || jwt.jwksUrl || !devKeysPath) return [...jwt.keys];
    const dev = loadOrCreateDevApiKey(devKeysPath);
    this.logger.warn({ kid: dev.kid, file: devKeysPath }, 'DEVELOPMENT ONLY: trusting the api key of the development key file for API tokens; configure LIVESCOPE_API_JWT_PUBLIC_KEYS or LIVESCOPE_API_JWKS_URL in production');
    return [parseTrustedKey(dev.kid, dev.publicKey)];
  }
}
