import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createKafka, createLogger, type KafkaSaslOptions, type KafkaSecurityOptions } from '@livescope/transport';
import type { Kafka } from 'kafkajs';

/**
 * The secured broker of `infra/start.sh --secure` (SASL_SSL with SCRAM-SHA-512, a local CA, the
 * StandardAuthorizer; no ACL means no access): where it listens and how each role connects.
 */
const services = (JSON.parse(readFileSync(new URL('../../infra/services.json', import.meta.url), 'utf8')) as { secured: { kafka: { ports: number[]; superUser: string } } }).secured.kafka;
export const SECURE_BROKERS = [`127.0.0.1:${services.ports[0]}`];
export const SUPER_USER = services.superUser;
const SECURE_DIR = join(process.env.LIVESCOPE_HOME ?? join(homedir(), '.cache', 'livescope'), 'secure');
export const CA_FILE = join(SECURE_DIR, 'ca.pem');
export const passwordFile = (user: string): string => join(SECURE_DIR, `${user}.password`);

/** TLS with the local CA and SCRAM-SHA-512 as `user`; `password` overrides the user's file. */
export function as(user: string, password?: string): KafkaSecurityOptions & { sasl: KafkaSaslOptions } {
  return { ssl: { caFile: CA_FILE }, sasl: { mechanism: 'scram-sha-512', username: user, password: password ?? readFileSync(passwordFile(user), 'utf8').trim() } };
}

/** The environment that makes a livescope process connect to the secured broker as `user`. */
export function securedEnv(user: string): Record<string, string> {
  return {
    LIVESCOPE_KAFKA_BROKERS: SECURE_BROKERS.join(','),
    LIVESCOPE_KAFKA_SSL: 'true',
    LIVESCOPE_KAFKA_SSL_CA_FILE: CA_FILE,
    LIVESCOPE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
    LIVESCOPE_KAFKA_SASL_USERNAME: user,
    LIVESCOPE_KAFKA_SASL_PASSWORD_FILE: passwordFile(user),
  };
}

/** The broker's error type anywhere in a kafkajs error chain (KafkaJSNonRetriableError wraps the protocol error). */
export function brokerErrorType(e: unknown): string | undefined {
  for (let x = e as { type?: unknown; cause?: unknown } | undefined, i = 0; x && i < 5; x = x.cause as typeof x, i++) if (typeof x.type === 'string') return x.type;
  return undefined;
}

/** Runs `attempt`, which must fail within `ms`; returns what it threw. */
export async function refused(what: string, attempt: () => Promise<unknown>, ms = 30_000): Promise<Error> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: neither accepted nor refused within ${ms} ms`)), ms)));
  try {
    await Promise.race([attempt(), late]);
  } catch (e) {
    if ((e as Error).message.startsWith(`${what}: neither`)) throw e;
    return e as Error;
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`${what}: was accepted, but must be refused`);
}

/** kafkajs errors about the refusals a test expects: logged only with LIVESCOPE_TEST_LOG_LEVEL. */
export const clientLogger = createLogger('secured-broker-test', process.env.LIVESCOPE_TEST_LOG_LEVEL ?? 'silent');

/** A kafkajs client on the secured broker as `role` (few retries: a refusal must come back quickly). */
export function kafkaAs(role: string, id: string, security: KafkaSecurityOptions = as(role)): Kafka {
  return createKafka({ brokers: SECURE_BROKERS, ...security, clientId: `secured-${role}-${id}`, logger: clientLogger, connectionTimeoutMs: 5000 }, { retry: { retries: 2, initialRetryTime: 100 } });
}
