import { classify, retry } from '@livescope/errors';
import { subjectSpecsFor, topicNames, valueSubject, type TopicNames } from '@livescope/contracts';
import { kafkaConnection, registryAuth } from '@livescope/runtime';
import type { PolicyCompiler } from '@livescope/scope-engine';
import { Store } from '@livescope/store';
import { createKafka, createProducer, EventPublisher, ProducerSigner, SchemaRegistryClient, type Logger } from '@livescope/transport';
import type { FastifyInstance } from 'fastify';
import type { Admin, Kafka, KafkaConfig, KafkaMessage, Producer } from 'kafkajs';
import { apiRoutes } from './api/apiRoutes.js';
import { loadOrCreateDevApiKey } from './auth/devKeys.js';
import { discoverProvider } from './auth/discoverProvider.js';
import { TokenVerifier } from './auth/TokenVerifier.js';
import { parseTrustedKey, type TrustedTokenKey } from './auth/verifyKeys.js';
import type { ControlPlaneConfig } from './config.js';
import { ControlPlaneMetrics } from './ControlPlaneMetrics.js';
import { alertSink, AlertsRepository, AlertsService } from './features/alerts/index.js';
import { ApprovalsService } from './features/approvals/index.js';
import { ChangesRepository, ChangesService } from './features/changes/index.js';
import { ConsoleAssets, ConsoleService } from './features/console/index.js';
import { AckAuthenticator, readAck, EnforcerAckSink, EnforcersRepository, EnforcersService } from './features/enforcers/index.js';
import { FleetRepository, FleetService } from './features/fleet/index.js';
import { builtInPolicyCompiler, IdentitiesRepository, IdentitiesService } from './features/identities/index.js';
import { MeService } from './features/me/index.js';
import { OperationsService } from './features/operations/index.js';
import { IdempotencyRepository, OrdersRepository, OrdersService } from './features/orders/index.js';
import { PoliciesRepository, PoliciesService } from './features/policies/index.js';
import { createApp, type RegisteredRoute } from './http/createApp.js';
import { apiDocument, type OpenApiDocument } from './http/openapi.js';
import { CommandFollower } from './kafka/CommandFollower.js';
import { EventSender } from './kafka/EventSender.js';
import { PgOffsetConsumer } from './kafka/PgOffsetConsumer.js';
import { ConsumerOffsets } from './persistence/ConsumerOffsets.js';
import { Database } from './persistence/Database.js';
import { WorkerState } from './persistence/WorkerState.js';
import { ActivityWindow } from './tracking/ActivityWindow.js';
import { AlertBus } from './tracking/AlertBus.js';
import { CommandTracker } from './tracking/CommandTracker.js';

export interface ControlPlaneOptions {
  /** Policy compiler for explain; default: scope-engine's Cedar adapter `compileScopePolicy`, as the workers run it. */
  readonly compilePolicies?: PolicyCompiler;
  /** Check every JSON response against its schema (tests). Default false. */
  readonly validateResponses?: boolean;
  /** Extra kafkajs settings for every Kafka client of the process (tests: a `socketFactory` that delays the brokers' answers). */
  readonly kafkaConfig?: Partial<KafkaConfig>;
}

/**
 * The control-plane process: HTTP API over the workers' state of record, publisher of orders and
 * approvals, follower of commands and acknowledgements, and store of alerts and enforcer status.
 * This is the composition root: it owns the connections and wires one service per feature.
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

  /**
   * Starts, retrying while PostgreSQL, the registry or the broker are unavailable (transient, up to
   * `startupTimeoutMs`); what a failed attempt opened is closed before the next one, and before a
   * failure is reported.
   */
  async start(): Promise<string> {
    return retry(
      async () => {
        try {
          return await this.startOnce();
        } catch (e) {
          await this.stop().catch((err: unknown) => this.logger.warn({ err }, 'cleaning up after a failed start'));
          throw e;
        }
      },
      {
        timeoutMs: this.config.startupTimeoutMs,
        baseMs: 250,
        onRetry: (err, attempt, delayMs) => this.logger.warn({ err, class: classify(err), attempt, delayMs }, 'starting the control plane failed; retrying'),
      },
    );
  }

  private async startOnce(): Promise<string> {
    const { config, logger, metrics, tracker, topics } = this;
    // The OpenID provider first: a wrong issuer or client setup fails the start before anything opens.
    const provider = config.oidc ? await discoverProvider(config.oidc, 10_000) : undefined;
    if (provider) logger.info({ issuer: provider.issuer, jwksUri: provider.jwksUri }, 'single sign-on through the OpenID provider');
    const store = await Store.open({ connectionString: config.pgUrl, schema: config.pgSchema, applicationName: `livescope-control-plane ${config.instanceId}` });
    this.store = store;
    const db = new Database(store);
    const migrated = await db.migrate();
    if (migrated.length) logger.info({ migrations: migrated }, 'control-plane tables migrated');
    const workerState = new WorkerState(store);
    const alertsRepository = new AlertsRepository(store);
    const enforcersRepository = new EnforcersRepository(store);
    const ordersRepository = new OrdersRepository(store);

    const registry = new SchemaRegistryClient(config.registryUrl, registryAuth(config));
    const ids = await registry.registerAll(subjectSpecsFor(config.topicPrefix));
    const eventsSchemaId = ids.get(valueSubject(topics.events))!.id;

    const kafka = createKafka({ ...kafkaConnection(config), clientId: `livescope-control-plane-${config.instanceId}`, logger }, this.options.kafkaConfig);
    this.kafka = kafka;
    const admin = kafka.admin();
    this.admin = admin;
    await admin.connect();
    const partitions = await EventPublisher.partitionCount(admin, topics.events);
    const producer = createProducer(kafka);
    this.producer = producer;
    await producer.connect();
    const signer = ProducerSigner.fromConfig(config.producerKeyId, config.producerKey);
    const sender = new EventSender(producer, new EventPublisher(producer, topics.events, eventsSchemaId, partitions, signer), config.publishTimeoutMs);

    const bus = new AlertBus();
    const changeBus = new AlertBus();
    const activity = new ActivityWindow();
    const ackAuth = new AckAuthenticator(config.enforcerKeys, config.requireSignedAcks);
    const readAckFor = (topic: string, m: KafkaMessage) => {
      const { ack, verdict } = readAck(ackAuth, topic, m);
      return verdict.kind === 'refused' ? undefined : { ack, verified: verdict.kind === 'verified' };
    };
    const follower = new CommandFollower({ kafka, admin, topics, tracker, readAck: readAckFor, windowMs: config.trackingWindowMs, groupPrefix: config.groupId, logger, metrics, activity, onCommands: () => changeBus.notify() });
    this.follower = follower;
    const acks = new EnforcerAckSink(enforcersRepository, metrics, logger, ackAuth);
    const storeAlerts = alertSink(alertsRepository, bus, metrics, logger);
    const consumer = new PgOffsetConsumer({
      kafka,
      db,
      offsets: new ConsumerOffsets(store),
      name: config.groupId,
      topics: [topics.driftAlerts, topics.enforcerAcks],
      handler: (client, batch) => (batch.topic === topics.driftAlerts ? storeAlerts(client, batch) : acks.handler(client, batch)),
      logger,
      metrics,
    });
    this.consumer = consumer;
    for (const o of await ordersRepository.orderEventsSince(new Date(Date.now() - config.trackingWindowMs).toISOString())) {
      if (o.eventId) tracker.expect(o.eventId, o.orderId, 'order.issued');
      if (o.liftEventId) tracker.expect(o.liftEventId, o.orderId, 'order.lifted');
    }
    await follower.start();
    await consumer.start();

    const verifier = new TokenVerifier({
      keys: this.trustedKeys(),
      jwksUrl: provider?.jwksUri ?? config.jwt.jwksUrl,
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      clockToleranceMs: config.jwt.clockToleranceMs,
      personClaim: config.jwt.personClaim,
      roles: config.jwt.roles,
    });
    const compilePolicies = this.options.compilePolicies ?? builtInPolicyCompiler;
    const consoleAssets = ConsoleAssets.locate(config.consoleDir);
    if (consoleAssets.root) logger.info({ dir: consoleAssets.root }, 'serving the web console under /console/');
    else logger.warn({ problem: consoleAssets.problem }, 'the web console is not available');
    const orders = new OrdersService({ config, eventsTopic: topics.events, repository: ordersRepository, idempotency: new IdempotencyRepository(store), workerState, sender, tracker, follower, metrics, logger });
    const identities = new IdentitiesService({ eventsTopic: topics.events, repository: new IdentitiesRepository(store), workerState, compilePolicies });
    const alerts = new AlertsService({ config, repository: alertsRepository, bus, logger });
    const enforcers = new EnforcersService({ config, repository: enforcersRepository, tracker, metrics });
    const routes = apiRoutes({
      orders,
      identities,
      approvals: new ApprovalsService({ config, identities, sender, metrics, logger }),
      alerts,
      fleet: new FleetService({ repository: new FleetRepository(store), orders, enforcers, alerts, activity }),
      changes: new ChangesService({ config, eventsTopic: topics.events, repository: new ChangesRepository(store), changeBus }),
      me: new MeService(),
      enforcers,
      operations: new OperationsService({
        probes: { kafka: () => admin.describeCluster(), registry: () => registry.ping(), postgres: () => store.ping() },
        consumers: () => ([follower.health, consumer.health].every((h) => h === 'ok') ? 'ok' : `command follower: ${follower.health}; store consumer: ${consumer.health}`),
        beforeScrape: () => enforcers.refreshGauges(),
        renderMetrics: async () => ({ contentType: metrics.registry.contentType, text: await metrics.registry.metrics() }),
        logger,
      }),
      console: new ConsoleService(consoleAssets, provider ? [...new Set([provider.issuer, provider.tokenEndpoint].filter((u): u is string => u !== undefined).map((u) => new URL(u).origin))] : []),
      openapi: { openApi: () => this.document },
      auth: { signInConfig: () => (config.oidc ? { issuer: config.oidc.issuer, consoleClientId: config.oidc.consoleClientId ?? null, cliClientId: config.oidc.cliClientId ?? null, scopes: config.oidc.scopes, resource: config.oidc.resource ?? null } : undefined) },
      policies: new PoliciesService({ eventsTopic: topics.events, repository: new PoliciesRepository(store), workerState, sender, logger, approval: config.policyApproval, maxWaitMs: config.maxWaitMs }),
    });
    this.document = apiDocument(routes);
    const { app, registered } = await createApp({
      routes,
      verifier,
      metrics,
      logger,
      rateLimits: { subjectPerMinute: config.rateLimitPerMinute, unauthenticatedPerMinute: config.rateLimitUnauthenticatedPerMinute, publicPerMinute: config.rateLimitPublicPerMinute },
      trustedProxies: config.trustedProxies,
      eventStreamsPerSubject: config.sseMaxPerSubject,
      validateResponses: this.options.validateResponses ?? false,
      staticRoot: consoleAssets.root,
      eventStreamMaxMs: config.sseMaxMs,
    });
    this.appInstance = app;
    this.routesRegistered = registered;
    const address = await app.listen({ host: config.host, port: config.port });
    this.address = address.replace('[::1]', '127.0.0.1');
    logger.info({ url: this.address, topicPrefix: config.topicPrefix, schema: config.pgSchema, partitions }, 'control plane listening');
    return this.address;
  }

  async stop(): Promise<void> {
    await this.appInstance?.close().catch((err: unknown) => this.logger.warn({ err }, 'http close'));
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
