#!/usr/bin/env node
import { sign, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { subjectSpecsFor, topicNames, valueSubject, type LivescopeEventInput } from '@livescope/contracts';
import { kafkaConnection, registryAuth } from '@livescope/runtime';
import { createKafka, createLogger, createProducer, EventPublisher, ProducerSigner, SchemaRegistryClient } from '@livescope/transport';
import { Command } from 'commander';
import { ConfigError, loadSimulatorConfig, type SimulatorConfig } from './config.js';
import { followFeed } from './feed.js';
import { fleetMembers, provisioningEvents } from './fleet.js';
import { policiesEvent, readPolicyDir } from './policyFiles.js';
import { scenario, scenarioNames, type ScenarioName } from './scenarios.js';
import { traffic } from './traffic.js';

/**
 * livescope-sim: a synthetic fleet for demos, tests and benchmarks. Everything it sends is
 * generated from a seed, so runs are comparable over time.
 */
let env: SimulatorConfig;
try {
  env = loadSimulatorConfig();
} catch (e) {
  if (!ConfigError.is(e)) throw e;
  process.stderr.write(`livescope-sim: ${e.message}\n`);
  process.exit(2);
}
const logger = createLogger('simulator', env.logLevel);

/**
 * The simulator plays provisioning, session issuers and approvers: its events are signed with its
 * producer key (the workers apply control events only from keys in their keyring). Without a key it
 * can only send observations, which the workers refuse to let widen anything.
 */
function producerSigner(): ProducerSigner | undefined {
  if (env.producerKeyId !== undefined && env.producerKey !== undefined) return ProducerSigner.fromConfig(env.producerKeyId, env.producerKey);
  logger.warn('LIVESCOPE_PRODUCER_KEY_ID / LIVESCOPE_PRODUCER_KEY not set: events are unsigned observations, and control events (provisioning, policies, orders, approvals) will be dead-lettered');
  return undefined;
}
const say = (line: string): void => void process.stdout.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function connect(): Promise<{ publisher: EventPublisher; close: () => Promise<void>; kafka: ReturnType<typeof createKafka> }> {
  const topics = topicNames(env.topicPrefix);
  const kafka = createKafka({ ...kafkaConnection(env), clientId: 'livescope-simulator', logger });
  const registry = new SchemaRegistryClient(env.registryUrl, registryAuth(env));
  const ids = await registry.registerAll(subjectSpecsFor(env.topicPrefix).filter((s) => s.topicKey === 'events'));
  const admin = kafka.admin();
  await admin.connect();
  const partitions = await EventPublisher.partitionCount(admin, topics.events);
  await admin.disconnect();
  const producer = createProducer(kafka);
  await producer.connect();
  return { kafka, publisher: new EventPublisher(producer, topics.events, ids.get(valueSubject(topics.events))!.id, partitions, producerSigner()), close: () => producer.disconnect() };
}

function releaseSigner(): { name: string; sign: (payload: string) => string } {
  if (!env.devKeys) throw new Error('LIVESCOPE_DEV_KEYS is not set: the release-window scenario needs a release manager key (npm start creates one)');
  const keys = JSON.parse(readFileSync(env.devKeys, 'utf8')) as { releaseSigner: { name: string; privateKey: string; publicKey: string } };
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: keys.releaseSigner.privateKey, x: keys.releaseSigner.publicKey }, format: 'jwk' });
  return { name: keys.releaseSigner.name, sign: (payload) => sign(null, Buffer.from(payload), key).toString('base64url') };
}

async function publishInBatches(publisher: EventPublisher, events: Iterable<LivescopeEventInput>, batch = 500, onProgress?: (n: number) => void): Promise<number> {
  let buf: LivescopeEventInput[] = [];
  let n = 0;
  for (const e of events) {
    buf.push(e);
    if (buf.length >= batch) {
      await publisher.publish(buf);
      n += buf.length;
      buf = [];
      onProgress?.(n);
    }
  }
  if (buf.length) {
    await publisher.publish(buf);
    n += buf.length;
    onProgress?.(n);
  }
  return n;
}

async function play(publisher: EventPublisher, name: ScenarioName, minuteMs: number, runId: string): Promise<void> {
  const signer = name === 'release-window' ? releaseSigner() : { name: 'none', sign: () => '' };
  const s = scenario(name, { startMs: Date.now(), minuteMs, runId, signReleaseWindow: signer.sign, releaseSigner: signer.name });
  say(`\n▶ scenario ${name}: ${s.title}`);
  const start = Date.now();
  for (const step of s.steps) {
    const wait = start + step.at - Date.now();
    if (wait > 0) await sleep(wait);
    say(`  · ${step.say}`);
    if (step.events.length) await publisher.publish(step.events.map((e) => ({ ...e, time: new Date().toISOString() })));
  }
}

const program = new Command('livescope-sim').description('A deterministic synthetic fleet of non-human identities for livescope.');

program
  .command('policies')
  .argument('<dir>', 'directory of .cedar files')
  .description('publish a policy set to every partition')
  .action(async (dir: string) => {
    const { publisher, close } = await connect();
    const files = readPolicyDir(dir);
    await publisher.publish([policiesEvent(files, process.env.USER ?? 'simulator')]);
    say(`published ${files.length} policy files from ${dir}`);
    await close();
  });

program
  .command('provision')
  .option('--size <n>', 'identities', '1000')
  .option('--seed <n>', 'seed', '42')
  .description('create a fleet: identities and their role grants')
  .action(async (o: { size: string; seed: string }) => {
    const { publisher, close } = await connect();
    const members = fleetMembers(Number(o.seed), Number(o.size));
    const now = Date.now();
    const n = await publishInBatches(publisher, members.flatMap((m) => provisioningEvents(m, now)), 500, (k) => process.stderr.write(`\rprovisioned ${k} events`));
    process.stderr.write('\n');
    say(`provisioned ${members.length} identities (${n} events)`);
    await close();
  });

program
  .command('play')
  .argument('<scenario>', `one of ${scenarioNames.join(', ')}`)
  .option('--minute-ms <ms>', 'how long a scenario "minute" lasts', '10000')
  .description('play a seed scenario and watch what the pipeline does')
  .action(async (name: string, o: { minuteMs: string }) => {
    if (!(scenarioNames as readonly string[]).includes(name)) throw new Error(`unknown scenario ${name}; one of ${scenarioNames.join(', ')}`);
    const { publisher, close, kafka } = await connect();
    const feed = await followFeed(kafka, topicNames(env.topicPrefix), say, { quietRefresh: true });
    await play(publisher, name as ScenarioName, Number(o.minuteMs), `${Date.now().toString(36)}`);
    await sleep(1000);
    await feed.disconnect();
    await close();
  });

program
  .command('demo')
  .option('--size <n>', 'identities in the fleet', '200')
  .option('--seed <n>', 'seed', '42')
  .option('--rate <n>', 'background events per second', '20')
  .option('--minute-ms <ms>', 'how long a scenario "minute" lasts', '10000')
  .option('--policies <dir>', 'publish this policy directory first')
  .description('a live fleet: background traffic plus the seed scenarios in turn, with a live feed')
  .action(async (o: { size: string; seed: string; rate: string; minuteMs: string; policies?: string }) => {
    const { publisher, close, kafka } = await connect();
    const feed = await followFeed(kafka, topicNames(env.topicPrefix), say, { quietRefresh: true });
    if (o.policies) {
      const files = readPolicyDir(o.policies);
      await publisher.publish([policiesEvent(files, 'demo')]);
      say(`published ${files.length} policies from ${o.policies}`);
    }
    const members = fleetMembers(Number(o.seed), Number(o.size));
    await publishInBatches(publisher, members.flatMap((m) => provisioningEvents(m, Date.now())));
    say(`fleet of ${members.length} identities provisioned; background traffic at ${o.rate} events/s`);
    let stop = false;
    process.on('SIGINT', () => (stop = true));
    process.on('SIGTERM', () => (stop = true));
    const background = (async () => {
      const gen = traffic(Number(o.seed), members, Date.now());
      const perTick = Math.max(1, Math.round(Number(o.rate) / 10));
      while (!stop) {
        const batch: LivescopeEventInput[] = [];
        for (let i = 0; i < perTick; i++) batch.push({ ...gen.next().value, time: new Date().toISOString() });
        await publisher.publish(batch);
        await sleep(100);
      }
    })();
    for (let round = 0; !stop; round++) {
      for (const name of scenarioNames) {
        if (stop) break;
        if (name === 'release-window' && !env.devKeys) continue;
        await play(publisher, name, Number(o.minuteMs), `${round}-${Date.now().toString(36)}`);
      }
    }
    await background;
    await feed.disconnect();
    await close();
  });

program
  .command('load')
  .option('--size <n>', 'fleet size (must be provisioned)', '1000')
  .option('--seed <n>', 'seed', '42')
  .option('--count <n>', 'events to send', '100000')
  .description('send the realistic traffic mix as fast as the broker takes it')
  .action(async (o: { size: string; seed: string; count: string }) => {
    const { publisher, close } = await connect();
    const members = fleetMembers(Number(o.seed), Number(o.size));
    const gen = traffic(Number(o.seed), members, Date.now());
    const count = Number(o.count);
    const started = Date.now();
    const n = await publishInBatches(publisher, (function* () {
      for (let i = 0; i < count; i++) yield gen.next().value;
    })(), 500, (k) => process.stderr.write(`\rsent ${k}/${count}`));
    process.stderr.write('\n');
    say(`sent ${n} events in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await close();
  });

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`livescope-sim: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
