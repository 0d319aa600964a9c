import { kafkaConnection, kafkaOptions, loadConfig, type Env } from '@livescope/runtime';
import { kafkaSecurityConfig, type KafkaSecurityOptions } from '@livescope/transport';
import type { KafkaConfig } from 'kafkajs';

/**
 * The connection the infra tools use: brokers, TLS and SASL from the same LIVESCOPE_KAFKA_*
 * variables (and `_FILE` secrets) the services read, through @livescope/runtime. The scripts set
 * them to the admin user for the secured broker (lib.sh `kafka_secure_env`).
 */
export interface InfraKafkaConnection {
  readonly brokers: readonly string[];
  readonly security: KafkaSecurityOptions;
}

export function kafkaFromEnv(env: Env = process.env, brokersOverride?: string): InfraKafkaConnection {
  const conn = kafkaConnection(loadConfig(kafkaOptions, brokersOverride === undefined ? env : { ...env, LIVESCOPE_KAFKA_BROKERS: brokersOverride }));
  return { brokers: conn.brokers, security: { ...(conn.ssl ? { ssl: conn.ssl } : {}), ...(conn.sasl ? { sasl: conn.sasl } : {}) } };
}

/** kafkajs `ssl`/`sasl` settings for a connection (empty for plaintext). */
export const securityConfig = (security: KafkaSecurityOptions | undefined): Pick<KafkaConfig, 'ssl' | 'sasl'> => (security ? kafkaSecurityConfig(security) : {});
