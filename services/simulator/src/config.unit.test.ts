import { ConfigError, kafkaConnection, registryAuth } from '@livescope/runtime';
import { describe, expect, it } from 'vitest';
import { loadSimulatorConfig } from './config.js';

describe('livescope-sim configuration', () => {
  it('defaults to the local plain broker, quietly', () => {
    const c = loadSimulatorConfig({});
    expect(c).toMatchObject({ topicPrefix: '', logLevel: 'warn', devKeys: undefined });
    expect(kafkaConnection(c)).toEqual({ brokers: ['127.0.0.1:9092'] });
  });

  it('connects as its own user to a secured cluster', () => {
    const c = loadSimulatorConfig({
      LIVESCOPE_KAFKA_BROKERS: 'k1:9094',
      LIVESCOPE_KAFKA_SSL: 'true',
      LIVESCOPE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      LIVESCOPE_KAFKA_SASL_USERNAME: 'simulator',
      LIVESCOPE_KAFKA_SASL_PASSWORD: 'sim-secret',
      LIVESCOPE_DEV_KEYS: '/tmp/dev-keys.json',
    });
    expect(kafkaConnection(c)).toMatchObject({ brokers: ['k1:9094'], ssl: {}, sasl: { username: 'simulator', password: 'sim-secret' } });
    expect(registryAuth(c)).toEqual({});
    expect(c.devKeys).toBe('/tmp/dev-keys.json');
    expect(JSON.stringify(c)).not.toContain('sim-secret');
  });

  it('names the variable that is wrong', () => {
    expect(() => loadSimulatorConfig({ LIVESCOPE_KAFKA_SSL: 'maybe' })).toThrow(ConfigError);
    expect(() => loadSimulatorConfig({ LIVESCOPE_KAFKA_SSL: 'maybe' })).toThrow(/LIVESCOPE_KAFKA_SSL/);
  });
});
