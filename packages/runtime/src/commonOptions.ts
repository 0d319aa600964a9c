import { z } from 'zod';
import { option } from './option.js';
import { bool, csv, logLevel, pgSchemaName, readableFile, topicPrefix } from './schemas.js';

/**
 * The variables every livescope process shares, each documented once. Services spread the
 * fragments they use into their own options spec; `kafkaConnection` and `registryConnection` turn
 * the parsed fields into client options.
 */

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

const needsSsl = (variable: string) => (value: unknown, c: Readonly<Record<string, unknown>>) =>
  value !== undefined && c.kafkaSsl !== true ? `is set, but LIVESCOPE_KAFKA_SSL is not true (${variable} only applies to TLS connections)` : undefined;

export const kafkaOptions = {
  brokers: option('LIVESCOPE_KAFKA_BROKERS', csv.default(['127.0.0.1:9092']), { doc: 'bootstrap brokers, comma-separated', unit: 'host:port,…' }),
  kafkaSsl: option('LIVESCOPE_KAFKA_SSL', bool.default(false), { doc: 'connect to the brokers over TLS (their `SSL` or `SASL_SSL` listener)', unit: 'true/false' }),
  kafkaSslCaFile: option('LIVESCOPE_KAFKA_SSL_CA_FILE', readableFile.optional(), {
    doc: "PEM file of the CA(s) that signed the brokers' certificates; unset: the system's trusted CAs",
    unit: 'path',
    check: needsSsl('LIVESCOPE_KAFKA_SSL_CA_FILE'),
  }),
  kafkaSslCertFile: option('LIVESCOPE_KAFKA_SSL_CERT_FILE', readableFile.optional(), {
    doc: 'PEM client certificate (chain), for brokers that require TLS client authentication; needs `LIVESCOPE_KAFKA_SSL_KEY_FILE`',
    unit: 'path',
    check: (v, c) => needsSsl('LIVESCOPE_KAFKA_SSL_CERT_FILE')(v, c) ?? (v !== undefined && c.kafkaSslKeyFile === undefined ? 'is set without LIVESCOPE_KAFKA_SSL_KEY_FILE' : undefined),
  }),
  kafkaSslKeyFile: option('LIVESCOPE_KAFKA_SSL_KEY_FILE', readableFile.optional(), {
    doc: 'PEM private key of the client certificate (unencrypted; keep the file mode 0600)',
    unit: 'path',
    check: (v, c) => needsSsl('LIVESCOPE_KAFKA_SSL_KEY_FILE')(v, c) ?? (v !== undefined && c.kafkaSslCertFile === undefined ? 'is set without LIVESCOPE_KAFKA_SSL_CERT_FILE' : undefined),
  }),
  kafkaSslServername: option('LIVESCOPE_KAFKA_SSL_SERVERNAME', z.string().min(1).optional(), {
    doc: "TLS server name (SNI) the brokers' certificates must carry; unset: each broker's host",
    unit: 'DNS name',
    check: needsSsl('LIVESCOPE_KAFKA_SSL_SERVERNAME'),
  }),
  kafkaSaslMechanism: option(
    'LIVESCOPE_KAFKA_SASL_MECHANISM',
    z
      .string()
      .transform((s) => s.trim().toLowerCase())
      .pipe(z.enum(SASL_MECHANISMS))
      .optional(),
    {
      doc: 'SASL authentication: `scram-sha-512`, `scram-sha-256` or `plain` (plain only over TLS); unset: no SASL',
      unit: 'mechanism',
      check: (v, c) => (v === 'plain' && c.kafkaSsl !== true ? 'plain sends the password in clear text: set LIVESCOPE_KAFKA_SSL=true' : undefined),
    },
  ),
  kafkaSaslUsername: option('LIVESCOPE_KAFKA_SASL_USERNAME', z.string().min(1).optional(), {
    doc: 'SASL user (the principal the broker authorizes, `User:<name>` in ACLs)',
    unit: 'name',
    check: (v, c) => (c.kafkaSaslMechanism !== undefined && v === undefined ? 'is required with LIVESCOPE_KAFKA_SASL_MECHANISM' : c.kafkaSaslMechanism === undefined && v !== undefined ? 'is set without LIVESCOPE_KAFKA_SASL_MECHANISM' : undefined),
  }),
  kafkaSaslPassword: option('LIVESCOPE_KAFKA_SASL_PASSWORD', z.string().min(1).optional(), {
    doc: 'SASL password',
    unit: 'secret',
    secret: true,
    check: (v, c) =>
      c.kafkaSaslMechanism !== undefined && v === undefined
        ? 'is required with LIVESCOPE_KAFKA_SASL_MECHANISM (or LIVESCOPE_KAFKA_SASL_PASSWORD_FILE)'
        : c.kafkaSaslMechanism === undefined && v !== undefined
          ? 'is set without LIVESCOPE_KAFKA_SASL_MECHANISM'
          : undefined,
  }),
} as const;

export const registryOptions = {
  registryUrl: option('LIVESCOPE_REGISTRY_URL', z.url().default('http://127.0.0.1:8081/apis/ccompat/v7'), { doc: 'Confluent-compatible schema registry API', unit: 'URL' }),
  registryUsername: option('LIVESCOPE_REGISTRY_USERNAME', z.string().min(1).optional(), {
    doc: 'HTTP basic-auth user of the schema registry; unset: no authentication',
    unit: 'name',
    check: (v, c) => (v !== undefined && c.registryPassword === undefined ? 'is set without LIVESCOPE_REGISTRY_PASSWORD' : undefined),
  }),
  registryPassword: option('LIVESCOPE_REGISTRY_PASSWORD', z.string().min(1).optional(), {
    doc: 'HTTP basic-auth password of the schema registry',
    unit: 'secret',
    secret: true,
    check: (v, c) => (v !== undefined && c.registryUsername === undefined ? 'is set without LIVESCOPE_REGISTRY_USERNAME' : undefined),
  }),
  registryCaFile: option('LIVESCOPE_REGISTRY_CA_FILE', readableFile.optional(), {
    doc: "PEM file of the CA(s) that signed the registry's certificate (https URLs); unset: the system's trusted CAs",
    unit: 'path',
    check: (v, c) => (v !== undefined && !String(c.registryUrl).startsWith('https:') ? 'is set, but LIVESCOPE_REGISTRY_URL is not an https URL' : undefined),
  }),
} as const;

export const postgresOptions = {
  pgUrl: option('LIVESCOPE_PG_URL', z.string().min(1).default('postgres://postgres@127.0.0.1:5432/livescope'), {
    doc: 'PostgreSQL connection string (may hold a password, hence a secret)',
    unit: 'URL',
    secret: true,
  }),
  pgSchema: option('LIVESCOPE_PG_SCHEMA', pgSchemaName.default('livescope'), { doc: "schema holding livescope's tables (created and migrated on start)", unit: 'SQL name' }),
} as const;

export const topicPrefixOption = {
  topicPrefix: option('LIVESCOPE_TOPIC_PREFIX', topicPrefix.default(''), { doc: 'prefix of every topic name, to run isolated pipelines on one cluster', unit: 'text', defaultDoc: '(empty)' }),
} as const;

/** `LIVESCOPE_LOG_LEVEL` with the default of the process (command-line tools are quieter). */
export const logLevelOption = (defaultLevel: z.output<typeof logLevel>) =>
  ({
    logLevel: option('LIVESCOPE_LOG_LEVEL', logLevel.default(defaultLevel), { doc: 'pino log level: fatal, error, warn, info, debug, trace or silent', unit: 'level' }),
  }) as const;

export const TRACE_EXPORTERS = ['none', 'otlp'] as const;
export type TraceExporterName = (typeof TRACE_EXPORTERS)[number];
export const TRACE_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type TraceSamplerName = (typeof TRACE_SAMPLERS)[number];

const lowerEnum = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .transform((s) => s.trim().toLowerCase())
    .pipe(z.enum(values));
const httpUrl = z.url({ protocol: /^https?$/, error: 'an http(s) URL' });

/**
 * OpenTelemetry tracing (docs/tracing.md). Off by default: then no tracer provider, propagator or
 * context manager is registered and every span the code starts is the API's no-op. The standard
 * `OTEL_` variables are read here, once, like every other option; the OTLP exporter itself also
 * honours `OTEL_EXPORTER_OTLP_HEADERS`, `_TIMEOUT` and `_COMPRESSION` (and their `_TRACES_` forms).
 */
export const tracingOptions = {
  otelExporter: option('LIVESCOPE_OTEL_EXPORTER', lowerEnum(TRACE_EXPORTERS).default('none'), {
    doc: 'where OpenTelemetry traces go: `none` (tracing off, no cost) or `otlp` (OTLP over HTTP, JSON, to the collector at `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`)',
    unit: 'exporter',
  }),
  otelTracesEndpoint: option('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', httpUrl.optional(), {
    doc: 'OTLP/HTTP traces URL, used as is; unset: `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, else `http://localhost:4318/v1/traces`',
    unit: 'URL',
  }),
  // Not refused without LIVESCOPE_OTEL_EXPORTER=otlp: these variables are often set for every process of a host.
  otelEndpoint: option('OTEL_EXPORTER_OTLP_ENDPOINT', httpUrl.optional(), { doc: 'OTLP/HTTP base URL of the collector (traces go to `<URL>/v1/traces`)', unit: 'URL' }),
  otelServiceName: option('OTEL_SERVICE_NAME', z.string().trim().min(1).max(256).optional(), {
    doc: 'the `service.name` of the spans',
    unit: 'name',
    defaultDoc: 'the service (`control-plane`, `scope-worker`, …)',
  }),
  otelSampler: option('OTEL_TRACES_SAMPLER', lowerEnum(TRACE_SAMPLERS).default('parentbased_always_on'), {
    doc: 'which traces are recorded: `always_on`, `always_off`, `traceidratio`, or `parentbased_…` of these (follow the caller’s decision, else the named one)',
    unit: 'sampler',
  }),
  otelSamplerArg: option('OTEL_TRACES_SAMPLER_ARG', z.coerce.number().min(0).max(1).optional(), {
    doc: 'the ratio of the `traceidratio` samplers',
    unit: '0…1',
    defaultDoc: '`1`',
    check: (v, c) => (v !== undefined && !String(c.otelSampler).endsWith('traceidratio') ? 'is set, but OTEL_TRACES_SAMPLER is not a traceidratio sampler' : undefined),
  }),
} as const;

/** Kafka, registry, PostgreSQL, topic prefix, log level and tracing: what the long-running services share. */
export const commonOptions = {
  ...kafkaOptions,
  ...registryOptions,
  ...postgresOptions,
  ...topicPrefixOption,
  ...logLevelOption('info'),
  ...tracingOptions,
} as const;
