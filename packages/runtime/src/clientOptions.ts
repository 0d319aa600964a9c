import type { kafkaOptions, registryOptions, SaslMechanism } from './commonOptions.js';
import type { ConfigOf } from './option.js';

/**
 * The parsed shared options as client settings: the shapes `createKafka` and
 * `SchemaRegistryClient` of @livescope/transport (and the enforcer SDK) accept. Passwords stay
 * non-enumerable on the objects built here too.
 */
export interface KafkaSslSettings {
  /** PEM file of the CA(s) that signed the brokers' certificates; unset: the system's CAs. */
  readonly caFile?: string;
  /** PEM client certificate (chain), for TLS client authentication. */
  readonly certFile?: string;
  /** PEM private key of `certFile`. */
  readonly keyFile?: string;
  /** TLS server name the brokers' certificates must carry; unset: each broker's host. */
  readonly servername?: string;
}

export interface KafkaSaslSettings {
  readonly mechanism: SaslMechanism;
  readonly username: string;
  readonly password: string;
}

export interface KafkaConnection {
  readonly brokers: readonly string[];
  /** Present: TLS. */
  readonly ssl?: KafkaSslSettings;
  /** Present: SASL authentication. */
  readonly sasl?: KafkaSaslSettings;
}

export interface RegistryAuthSettings {
  readonly username?: string;
  readonly password?: string;
  readonly caFile?: string;
}

/** A copy of `visible` with `secrets` added as non-enumerable fields. */
export function withSecrets<V extends object, S extends Record<string, unknown>>(visible: V, secrets: S): V & S {
  const out = { ...visible } as V & S;
  for (const [k, v] of Object.entries(secrets)) if (v !== undefined) Object.defineProperty(out, k, { value: v, enumerable: false });
  return out;
}

export function kafkaConnection(c: ConfigOf<typeof kafkaOptions>): KafkaConnection {
  const ssl: KafkaSslSettings | undefined = c.kafkaSsl
    ? {
        ...(c.kafkaSslCaFile === undefined ? {} : { caFile: c.kafkaSslCaFile }),
        ...(c.kafkaSslCertFile === undefined ? {} : { certFile: c.kafkaSslCertFile }),
        ...(c.kafkaSslKeyFile === undefined ? {} : { keyFile: c.kafkaSslKeyFile }),
        ...(c.kafkaSslServername === undefined ? {} : { servername: c.kafkaSslServername }),
      }
    : undefined;
  const sasl: KafkaSaslSettings | undefined =
    c.kafkaSaslMechanism !== undefined && c.kafkaSaslUsername !== undefined && c.kafkaSaslPassword !== undefined
      ? withSecrets({ mechanism: c.kafkaSaslMechanism, username: c.kafkaSaslUsername }, { password: c.kafkaSaslPassword })
      : undefined;
  return { brokers: c.brokers, ...(ssl ? { ssl } : {}), ...(sasl ? { sasl } : {}) };
}

export function registryAuth(c: ConfigOf<typeof registryOptions>): RegistryAuthSettings {
  return withSecrets(
    { ...(c.registryUsername === undefined ? {} : { username: c.registryUsername }), ...(c.registryCaFile === undefined ? {} : { caFile: c.registryCaFile }) },
    { password: c.registryPassword },
  );
}
