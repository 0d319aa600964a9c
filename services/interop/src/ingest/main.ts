#!/usr/bin/env node
import { adapterFor } from '@livescope/adapters';
import { ConfigError, kafkaConnection, registryAuth } from '@livescope/runtime';
import { redactPaths } from '@livescope/transport';
import { pino } from 'pino';
import type { JSONWebKeySet } from 'jose';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { loadIngestConfig } from '../config.js';
import { InteropError } from '../InteropError.js';
import { KafkaContext } from '../kafka/KafkaContext.js';
import { githubJwtVerifier } from './githubJwtVerifier.js';
import { IngestPipeline, type IngestStats } from './IngestPipeline.js';
import type { IngestSink } from './IngestSink.js';
import { ingestWebhook } from './ingestWebhook.js';
import { KafkaIngestSink, PrintingSink } from './KafkaIngestSink.js';
import { parseIngestArgs } from './parseIngestArgs.js';


const line = (s: IngestStats, source: string, startedAt: number): string => {
  const secs = Math.max((Date.now() - startedAt) / 1000, 0.001);
  return `livescope-ingest ${source}: ${s.records} records, ${s.events} events, ${s.deadLetters} dead letters, ${s.skipped} skipped (${Math.round(s.records / secs)} records/s)`;
};

async function main(): Promise<number> {
  const args = parseIngestArgs(process.argv.slice(2));
  const env = loadIngestConfig();
  // Logs go to stderr: stdout carries the records of a dry run.
  const logger = pino({ name: 'livescope-ingest', level: env.logLevel, base: { service: 'livescope-ingest' }, redact: { paths: redactPaths, censor: '[redacted]' } }, pino.destination(2)).child({ source: args.source });
  const stderr = (s: string): void => {
    if (!args.quiet) process.stderr.write(`${s}\n`);
  };
  let kafka: KafkaContext | undefined;
  let sink: IngestSink;
  const origin = `ingest:${args.source}:${args.listen ? 'webhook' : args.input === '-' ? 'stdin' : 'file'}`;
  if (args.dryRun) {
    sink = new PrintingSink((l) => process.stdout.write(`${l}\n`));
  } else {
    kafka = await KafkaContext.open({ ...kafkaConnection(env), registryUrl: env.registryUrl, registryAuth: registryAuth(env), topicPrefix: env.topicPrefix, clientId: 'livescope-ingest', writerId: `livescope-ingest-${process.pid}`, logger });
    sink = new KafkaIngestSink(kafka, origin);
  }
  const transform = args.jwksFile ? githubJwtVerifier(JSON.parse(await readFile(args.jwksFile, 'utf8')) as JSONWebKeySet, args.audience ? { audience: args.audience } : {}) : undefined;
  const startedAt = Date.now();
  let lastProgress = Date.now();
  const pipeline = new IngestPipeline(adapterFor(args.source, { owner: args.owner, announce: args.announce }), sink, {
    layout: args.layout,
    batchEvents: args.batchEvents,
    ...(transform ? { transform } : {}),
    onProgress: (s) => {
      if (Date.now() - lastProgress < 1000) return;
      lastProgress = Date.now();
      stderr(line(s, args.source, startedAt));
    },
  });

  if (args.listen) {
    const app = ingestWebhook(pipeline, { source: args.source, bodyLimit: args.bodyLimit, logger });
    const address = await app.listen({ host: args.listen.host, port: args.listen.port });
    stderr(`livescope-ingest ${args.source}: listening on ${address}/ingest`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        void app.close().then(resolve);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    const stats = await pipeline.end();
    stderr(line(stats, args.source, startedAt));
    await kafka?.close();
    return 0;
  }
  const input = args.input === '-' ? process.stdin : createReadStream(args.input!);
  input.setEncoding('utf8');
  const stats = await pipeline.consume(input as AsyncIterable<string>);
  stderr(line(stats, args.source, startedAt));
  for (const [reason, n] of Object.entries(stats.reasons).sort()) stderr(`  ${reason}: ${n}`);
  await kafka?.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    if ((InteropError.is(e) && e.code === 'CONFIG') || ConfigError.is(e)) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`livescope-ingest failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
