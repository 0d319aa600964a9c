import { ConfigError, kafkaOptions, loadConfig, logLevelOption, option, registryOptions, topicPrefixOption, type ConfigOf, type Env } from '@livescope/runtime';
import { z } from 'zod';

export { ConfigError };

/**
 * `livescope-sim`'s configuration: the connection (Kafka with TLS and SASL, registry) from
 * @livescope/runtime's shared fragment, and where the release manager's development key is.
 */
export const simulatorOptions = {
  ...kafkaOptions,
  ...registryOptions,
  ...topicPrefixOption,
  ...logLevelOption('warn'),
  devKeys: option('LIVESCOPE_DEV_KEYS', z.string().min(1).optional(), {
    doc: 'development key file (`npm start` writes it); its release manager key signs the release-window scenario',
    unit: 'path',
  }),
  producerKeyId: option('LIVESCOPE_PRODUCER_KEY_ID', z.string().min(1).max(128).optional(), {
    doc: "id of the simulator's producer key in the workers' keyring (LIVESCOPE_PRODUCER_KEYS); without it the simulator's events are unsigned observations",
  }),
  producerKey: option('LIVESCOPE_PRODUCER_KEY', z.string().min(1).optional(), {
    doc: 'Ed25519 private key that signs every event the simulator sends (base64url raw 32-byte seed, or PKCS#8 PEM)',
    secret: true,
  }),
} as const;

export type SimulatorConfig = ConfigOf<typeof simulatorOptions>;

export function loadSimulatorConfig(env: Env = process.env): SimulatorConfig {
  return loadConfig(simulatorOptions, env);
}
