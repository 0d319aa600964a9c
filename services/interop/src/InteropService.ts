import { SetSigner } from '@livescope/caep';
import { kafkaConnection, registryAuth } from '@livescope/runtime';
import { CommandVerifier, parsePublicKey, type Logger } from '@livescope/transport';
import type { FastifyInstance } from 'fastify';
import type { InteropConfig } from './config.js';
import { httpApp } from './httpApp.js';
import { InteropMetrics } from './InteropMetrics.js';
import { KafkaContext } from './kafka/KafkaContext.js';
import { OcsfBridge } from './ocsf/OcsfBridge.js';
import { CaepBridge } from './ssf/CaepBridge.js';
import { PgSsfStore } from './ssf/PgSsfStore.js';
import { PushDeliverer } from './ssf/PushDeliverer.js';
import { OAuthTokenIssuer } from './ssf/OAuthTokenIssuer.js';
import { ReceiverClients } from './ssf/ReceiverClients.js';
import { SetReceiver } from './ssf/SetReceiver.js';
import { SsfPollReceiver } from './ssf/SsfPollReceiver.js';
import type { SsfStore } from './ssf/SsfStore.js';
import { Transmitter } from './ssf/Transmitter.js';
import { WebhookSink } from './WebhookSink.js';

export interface InteropServiceOverrides {
  /** A store other than PostgreSQL (tests). */
  readonly store?: SsfStore;
  readonly fetch?: typeof fetch;
}

/**
 * livescope-interop: the SSF/CAEP transmitter (HTTP + Kafka consumer of commands + push delivery),
 * the SSF receiver (HTTP → events topic) and the OCSF export of drift alerts, each enabled by
 * configuration. Owns the process-level lifecycle: `start` in dependency order, `stop` in reverse.
 */
export class InteropService {
  readonly metrics = new InteropMetrics();
  app!: FastifyInstance;
  kafka!: KafkaContext;
  store!: SsfStore;
  transmitter?: Transmitter;
  signer?: SetSigner;
  private bridge?: CaepBridge;
  private deliverer?: PushDeliverer;
  private ocsf?: OcsfBridge;
  /** The transmitters this instance polls (LIVESCOPE_SSF_POLL_STREAMS). */
  readonly pollReceivers: SsfPollReceiver[] = [];
  private forgetTimer?: NodeJS.Timeout;
  private issuerUrl = '';

  constructor(
    readonly config: InteropConfig,
    private readonly logger: Logger,
    private readonly overrides: InteropServiceOverrides = {},
  ) {}

  /** The SSF issuer (and public base URL). */
  get issuer(): string {
    return this.issuerUrl;
  }

  async start(): Promise<string> {
    const c = this.config;
    const log = this.logger;
    this.kafka = await KafkaContext.open({ ...kafkaConnection(c), registryUrl: c.registryUrl, registryAuth: registryAuth(c), topicPrefix: c.topicPrefix, clientId: `livescope-interop-${c.instanceId}`, writerId: c.instanceId, logger: log, ...(c.producer.signer ? { producerSigner: c.producer.signer } : {}) });
    this.store = this.overrides.store ?? (await PgSsfStore.open(c.pgUrl, c.pgSchema, `livescope-interop ${c.instanceId}`));
    const issuer = (): string => this.issuerUrl;
    let transmitterDeps;
    if (c.features.has('transmitter')) {
      this.signer = await SetSigner.create(c.signingKeys);
      const oauth = c.oauthClients.length ? new OAuthTokenIssuer(c.oauthClients, this.signer, issuer, c.accessTokenTtlSec) : undefined;
      this.transmitter = new Transmitter({ store: this.store, signer: this.signer, issuer, defaultSubjects: c.defaultSubjects, minVerificationIntervalSec: c.minVerificationIntervalSec, pollWaitMs: c.pollWaitMs, pollAckTimeoutMs: c.pollAckTimeoutMs, oauth: oauth !== undefined });
      transmitterDeps = { transmitter: this.transmitter, signer: this.signer, clients: new ReceiverClients(c.receiverClients, oauth), ...(oauth ? { oauth } : {}) };
    }
    const receiver = c.features.has('receiver')
      ? new SetReceiver({ issuers: c.trustedIssuers, store: this.store, publish: async (events) => void (await this.kafka.publisher.publish(events)), maxAgeSec: c.receiverMaxAgeSec, logger: log.child({ component: 'ssf-receiver' }), metrics: this.metrics, controlAllowed: c.producer.allows })
      : undefined;
    this.app = httpApp({
      logger: log,
      metrics: this.metrics,
      ...(transmitterDeps ? { transmitter: transmitterDeps } : {}),
      ...(receiver ? { receiver } : {}),
      health: async () => ({
        registry: await this.kafka.registry.ping().then(
          () => 'ok',
          (e: Error) => e.message,
        ),
      }),
    });
    const address = await this.app.listen({ host: c.host, port: c.port });
    this.issuerUrl = c.issuer ?? address.replace('[::1]', 'localhost');
    log.info({ address, issuer: this.issuerUrl, features: [...c.features] }, 'livescope-interop listening');

    if (this.transmitter && this.signer) {
      const verifier = new CommandVerifier(Object.entries(c.commandPublicKeys).map(([kid, key]) => parsePublicKey(kid, key)));
      this.bridge = new CaepBridge({ kafka: this.kafka, groupId: `${c.topicPrefix}livescope-interop-caep`, verifier, signer: this.signer, issuer, topicAudience: c.topicAudience, subjects: { subjectIssuer: this.issuerUrl, sessionSubjects: c.sessionSubjects }, transmitter: this.transmitter, fromBeginning: c.consumeFromBeginning, logger: log, metrics: this.metrics });
      await this.bridge.start();
      this.deliverer = new PushDeliverer({ store: this.store, logger: log.child({ component: 'ssf-push' }), metrics: this.metrics, timeoutMs: c.pushTimeoutMs, maxAttempts: c.pushMaxAttempts, retryBaseMs: c.retryBaseMs, retryMaxMs: c.retryMaxMs, intervalMs: c.deliveryIntervalMs, ...(this.overrides.fetch ? { fetch: this.overrides.fetch } : {}) });
      this.deliverer.start();
    }
    if (c.features.has('ocsf')) {
      const webhook = c.ocsfWebhookUrl
        ? new WebhookSink({ url: c.ocsfWebhookUrl, ...(c.ocsfWebhookAuthorization ? { authorization: c.ocsfWebhookAuthorization } : {}), maxAttempts: c.ocsfWebhookMaxAttempts, timeoutMs: c.ocsfWebhookTimeoutMs, retryBaseMs: c.retryBaseMs, retryMaxMs: c.retryMaxMs, logger: log.child({ component: 'ocsf-webhook' }), ...(this.overrides.fetch ? { fetch: this.overrides.fetch } : {}) })
        : undefined;
      this.ocsf = new OcsfBridge({ kafka: this.kafka, groupId: `${c.topicPrefix}livescope-interop-ocsf`, ...(webhook ? { webhook } : {}), fromBeginning: c.consumeFromBeginning, logger: log, metrics: this.metrics });
      await this.ocsf.start();
    }
    if (receiver) {
      for (const p of c.pollStreams) {
        // Client secrets given as files were read with the configuration (config.ts).
        const poller = new SsfPollReceiver({ config: p, receiver, logger: log.child({ component: 'ssf-poll', transmitter: p.transmitter }), metrics: this.metrics, ...(this.overrides.fetch ? { fetch: this.overrides.fetch } : {}) });
        poller.start();
        this.pollReceivers.push(poller);
      }
      this.forgetTimer = setInterval(() => {
        this.store.forgetReceived(Date.now() - c.receiverMaxAgeSec * 1000).catch((e: unknown) => log.warn({ err: e }, 'could not prune received SET ids'));
      }, 60_000);
      this.forgetTimer.unref();
    }
    return this.issuerUrl;
  }

  async stop(): Promise<void> {
    if (this.forgetTimer) clearInterval(this.forgetTimer);
    await Promise.all(this.pollReceivers.map((p) => p.stop()));
    this.transmitter?.close();
    await this.app?.close().catch(() => undefined);
    await this.deliverer?.stop();
    await this.bridge?.stop().catch(() => undefined);
    await this.ocsf?.stop().catch(() => undefined);
    await this.kafka?.close();
    if (!this.overrides.store) await this.store?.close().catch(() => undefined);
  }
}
