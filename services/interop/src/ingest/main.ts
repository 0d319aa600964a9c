#!/usr/bin/env node
import { adapterFor, autoAdapter, defaultReplayDetectorOptions, ReplayDetector, type HumanActivity } from '@livescope/adapters';
import { ConfigError, kafkaConnection, registryAuth } from '@livescope/runtime';
import { createLogger } from '@livescope/transport';
import { pino } from 'pino';
import type { JSONWebKeySet } from 'jose';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { loadIngestConfig } from '../config.js';
import { InteropError } from '../InteropError.js';
import { KafkaContext } from '../kafka/KafkaContext.js';
import { producerIdentity } from '../producerIdentity.js';
import { githubJwtVerifier, onlyGithubRecords } from './githubJwtVerifier.js';
import { IngestMetrics } from './IngestMetrics.js';
import { IngestPipeline, type IngestStats } from './IngestPipeline.js';
import type { IngestSink } from './IngestSink.js';
import { ingestWebhook } from './ingestWebhook.js';
import { KafkaIngestSink, PrintingSink } from './KafkaIngestSink.js';
import { parseIngestArgs } from './parseIngestArgs.js';


const line = (s: IngestStats, source: string, startedAt: number): string => {
  const secs = Math.max((Date.now() - startedAt) / 1000, 0.001);
  return `livescope-ingest ${source}: ${s.records} records, ${s.events} events, ${s.deadLetters} dead letters, ${s.skipped} skipped, ${s.withheld} withheld, ${s.replays} replays detected (${Math.round(s.records / secs)} records/s)`;
};

async function main(): Promise<number> {
  const args = parseIngestArgs(process.argv.slice(2));
  const env = loadIngestConfig();
  const producer = producerIdentity(env);
  const auth = { ...(env.ingestToken === undefined ? {} : { token: env.ingestToken }), ...(env.ingestHmacSecret === undefined ? {} : { hmacSecret: env.ingestHmacSecret }) };
  if (args.listen && auth.token === undefined && auth.hmacSecret === undefined) {
    throw new ConfigError('--listen requires authentication: set LIVESCOPE_INGEST_TOKEN (bearer token) and/or LIVESCOPE_INGEST_HMAC_SECRET (HMAC-SHA256 of the body), or their _FILE variants', ['LIVESCOPE_INGEST_TOKEN', 'LIVESCOPE_INGEST_HMAC_SECRET']);
  }
  // Logs go to stderr: stdout carries the records of a dry run.
  const logger = createLogger('livescope-ingest', env.logLevel, {}, pino.destination(2)).child({ source: args.source });
  const stderr = (s: string): void => {
    if (!args.quiet) process.stderr.write(`${s}\n`);
  };
  let kafka: KafkaContext | undefined;
  let sink: IngestSink;
  const origin = `ingest:${args.source}:${args.listen ? 'webhook' : args.input === '-' ? 'stdin' : 'file'}`;
  const stdout = (l: string): void => void process.stdout.write(`${l}\n`);
  if (args.dryRun) {
    sink = new PrintingSink(stdout);
  } else {
    kafka = await KafkaContext.open({ ...kafkaConnection(env), registryUrl: env.registryUrl, registryAuth: registryAuth(env), topicPrefix: env.topicPrefix, clientId: 'livescope-ingest', writerId: `livescope-ingest-${process.pid}`, logger, ...(producer.signer ? { producerSigner: producer.signer } : {}) });
    sink = new KafkaIngestSink(kafka, origin);
  }
  stderr(producer.signer ? `livescope-ingest ${args.source}: signing events with producer key ${producer.keyId}` : `livescope-ingest ${args.source}: no producer key: events are unsigned observations; control events (entitlements, identity lifecycle…) are withheld and counted`);
  let transform;
  if (args.jwksFile) {
    const verify = githubJwtVerifier(JSON.parse(await readFile(args.jwksFile, 'utf8')) as JSONWebKeySet, { audience: args.audience! });
    transform = args.source === 'auto' ? onlyGithubRecords(verify) : verify;
  }
  const humansOut = args.humans === 'keep' && args.humansOut ? createWriteStream(args.humansOut, { flags: 'a' }) : undefined;
  const onHuman = (h: HumanActivity): void => {
    const l = JSON.stringify({ kind: 'human', ...h });
    if (humansOut) humansOut.write(`${l}\n`);
    else stdout(l);
  };
  const metrics = new IngestMetrics(args.source);
  const options = { owner: args.owner, announce: args.announce, humans: args.humans, machineUsers: args.machineUsers, humanUsers: args.humanUsers };
  const adapter = args.source === 'auto' ? autoAdapter(options) : adapterFor(args.source, options);
  const detector = args.replayWindowMs > 0 ? new ReplayDetector({ windowMs: args.replayWindowMs, platformNetworks: { ...defaultReplayDetectorOptions.platformNetworks, ...args.platformNetworks } }) : undefined;
  const startedAt = Date.now();
  let lastProgress = Date.now();
  const pipeline = new IngestPipeline(adapter, sink, {
    layout: args.layout,
    batchEvents: args.batchEvents,
    controlAllowed: producer.allows,
    ...(transform ? { transform } : {}),
    ...(detector ? { detector } : {}),
    ...(args.humans === 'keep' ? { onHuman } : {}),
    onRecord: (n) => metrics.record(n),
    onProgress: (s) => {
      if (Date.now() - lastProgress < 1000) return;
      lastProgress = Date.now();
      stderr(line(s, args.source, startedAt));
    },
  });
  const finish = async (stats: IngestStats): Promise<number> => {
    stderr(line(stats, args.source, startedAt));
    for (const [reason, n] of Object.entries(stats.reasons).sort()) stderr(`  ${reason}: ${n}`);
    await new Promise<void>((resolve) => (humansOut ? humansOut.end(resolve) : resolve()));
    await kafka?.close();
    return 0;
  };

  if (args.listen) {
    const app = ingestWebhook(pipeline, { source: args.source, bodyLimit: args.bodyLimit, logger, auth, metrics });
    const address = await app.listen({ host: args.listen.host, port: args.listen.port });
    stderr(`livescope-ingest ${args.source}: listening on ${address}/ingest`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        void app.close().then(resolve);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return finish(await pipeline.end());
  }
  const input = args.input === '-' ? process.stdin : createReadStream(args.input!);
  input.setEncoding('utf8');
  return finish(await pipeline.consume(input as AsyncIterable<string>));
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    if ((InteropError.is(e) && e.code === 'CONFIG') || ConfigError.is(e)) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`livescope-ingest failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
