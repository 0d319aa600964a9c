import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * docker-compose.yml must run the services infra/start.sh runs, with the same versions, ports and
 * settings. Both take them from infra/services.json; this test holds the compose file to it.
 */

interface ServiceDef {
  readonly version: string;
  readonly image: string;
  readonly ports: readonly number[];
  readonly containerPort?: number;
  readonly internalPorts?: Readonly<Record<string, number>>;
  readonly brokerConfig?: Readonly<Record<string, string>>;
  readonly config?: Readonly<Record<string, string>>;
  readonly database?: string;
  readonly databases?: readonly string[];
  readonly user?: string;
}
interface ComposeService {
  readonly image?: string;
  readonly ports?: ReadonlyArray<string | { target: number; published: number | string; host_ip?: string }>;
  readonly environment?: Readonly<Record<string, string | number | boolean | null>> | readonly string[];
  readonly volumes?: readonly string[];
}

const infraDir = fileURLToPath(new URL('..', import.meta.url));
const repoDir = join(infraDir, '..');
const services = (JSON.parse(readFileSync(join(infraDir, 'services.json'), 'utf8')) as { services: Record<string, ServiceDef> }).services;
const composeText = readFileSync(join(repoDir, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText) as { services: Record<string, ComposeService> };

function env(name: string): Record<string, string> {
  const e = compose.services[name]?.environment ?? {};
  if (Array.isArray(e)) return Object.fromEntries(e.map((kv: string) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** "127.0.0.1:9092:9092" (short syntax) as host ip, host port, container port. */
function published(name: string): Array<{ hostIp: string; host: number; container: number }> {
  return (compose.services[name]?.ports ?? []).map((p) => {
    if (typeof p !== 'string') return { hostIp: p.host_ip ?? '', host: Number(p.published), container: p.target };
    const parts = p.replace(/\/tcp$/, '').split(':');
    expect(parts, `port "${p}" of ${name} names its host ip`).toHaveLength(3);
    return { hostIp: parts[0] ?? '', host: Number(parts[1]), container: Number(parts[2]) };
  });
}

/** The apache/kafka image's mapping of a server.properties key to an environment variable. */
const kafkaEnvName = (key: string): string => `KAFKA_${key.replace(/_/g, '__').replace(/-/g, '___').replace(/\./g, '_').toUpperCase()}`;
/** Quarkus's mapping of a property to an environment variable. */
const quarkusEnvName = (key: string): string => key.replace(/[^A-Za-z0-9]/g, '_').toUpperCase();

describe('docker-compose.yml matches infra/services.json', () => {
  it('runs exactly the services the scripts manage', () => {
    expect(Object.keys(compose.services).sort()).toEqual(Object.keys(services).sort());
  });

  it.each(Object.keys(services))('%s: official image at the same version', (name) => {
    const s = services[name]!;
    expect(compose.services[name]?.image).toBe(`${s.image}:${s.version}`);
  });

  it.each(Object.keys(services))('%s: the same host ports, on 127.0.0.1 only', (name) => {
    const s = services[name]!;
    const ports = published(name);
    expect(ports.map((p) => p.host).sort()).toEqual([...s.ports].sort());
    expect(ports.every((p) => p.hostIp === '127.0.0.1')).toBe(true);
    expect(ports.map((p) => p.container)).toEqual(s.containerPort === undefined ? s.ports : [s.containerPort]);
  });

  it('kafka: every broker setting the scripts write is in the environment', () => {
    const e = env('kafka');
    for (const [key, value] of Object.entries(services.kafka!.brokerConfig!)) {
      expect(e[kafkaEnvName(key)], `${key} as ${kafkaEnvName(key)}`).toBe(value);
    }
    expect(e.KAFKA_ADVERTISED_LISTENERS).toBe(`PLAINTEXT://127.0.0.1:${services.kafka!.ports[0]}`);
    expect(e.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe(`1@localhost:${services.kafka!.internalPorts!.controller}`);
    expect(e.CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('registry: the same storage settings, pointing at the registry database', () => {
    const e = env('registry');
    const r = services.registry!;
    for (const [key, value] of Object.entries(r.config!)) {
      expect(e[quarkusEnvName(key)], `${key} as ${quarkusEnvName(key)}`).toBe(value);
    }
    expect(e.APICURIO_DATASOURCE_URL).toBe(`jdbc:postgresql://postgres:5432/${r.database}`);
    expect(services.postgres!.databases).toContain(r.database);
  });

  it('postgres: trust auth and every database the scripts create', () => {
    const e = env('postgres');
    expect(e.POSTGRES_HOST_AUTH_METHOD).toBe('trust');
    expect(e.POSTGRES_USER ?? 'postgres').toBe(services.postgres!.user);
    const init = (compose.services.postgres?.volumes ?? []).find((v) => v.includes('/docker-entrypoint-initdb.d/'));
    expect(init, 'an init script is mounted').toBeDefined();
    const sql = readFileSync(join(repoDir, init!.split(':')[0]!), 'utf8');
    for (const db of services.postgres!.databases!) expect(sql).toMatch(new RegExp(`CREATE DATABASE ${db}\\b`, 'i'));
  });
});

describe('the scripts read infra/services.json', () => {
  // A fresh LIVESCOPE_HOME: no running service's version may stand in for the defaults.
  const home = mkdtempSync(join(tmpdir(), 'livescope-home-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('ctl.sh env reports the versions and ports of services.json', () => {
    const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LIVESCOPE_')));
    const out = execFileSync('bash', [join(infraDir, 'ctl.sh'), 'env'], { env: { ...cleanEnv, LIVESCOPE_HOME: home }, encoding: 'utf8' });
    expect(out).toContain(`export LIVESCOPE_KAFKA_VERSION=${services.kafka!.version}\n`);
    expect(out).toContain(`export LIVESCOPE_APICURIO_VERSION=${services.registry!.version}\n`);
    expect(out).toContain(`export LIVESCOPE_KAFKA_BROKERS=127.0.0.1:${services.kafka!.ports[0]}\n`);
    expect(out).toContain(`export LIVESCOPE_REGISTRY_URL=http://127.0.0.1:${services.registry!.ports[0]}/apis/ccompat/v7\n`);
    expect(out).toContain(`export LIVESCOPE_PG_URL=postgres://postgres@127.0.0.1:${services.postgres!.ports[0]}/livescope\n`);
  });
});

const hasDockerCompose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasDockerCompose)('docker-compose config (the compose binary validates offline)', () => {
  it('accepts the file and resolves the same services', () => {
    const r = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { cwd: repoDir, encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr, 'docker-compose stderr').not.toMatch(/ERROR|invalid/i);
    expect(r.status).toBe(0);
    const resolved = parse(r.stdout) as { services: Record<string, ComposeService> };
    expect(Object.keys(resolved.services).sort()).toEqual(Object.keys(services).sort());
    for (const [name, s] of Object.entries(services)) expect(resolved.services[name]?.image).toBe(`${s.image}:${s.version}`);
  });
});
