import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, Service, type IContainer, type IPodSpec } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

/**
 * Issue 19's deployable artefacts, validated as far as this machine can (no Docker engine): the
 * Kubernetes manifests against the Kubernetes JSON schemas (kubernetes-models), the compose file of
 * the whole system by docker-compose itself, the Dockerfiles by their rules.
 */
const repoDir = fileURLToPath(new URL('../..', import.meta.url));
const k8sDir = join(repoDir, 'deploy/kubernetes');
/** The worker's V8 flags: every way of starting it must carry them. */
const workerFlags = JSON.parse(readFileSync(join(repoDir, 'services/scope-worker/node-flags.json'), 'utf8')) as string[];
const models: Record<string, new (data: never) => { validate(): void }> = { 'apps/v1/Deployment': Deployment, 'batch/v1/Job': Job, 'v1/Service': Service, 'v1/ConfigMap': ConfigMap };

interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec?: { readonly template?: { readonly spec: IPodSpec } };
}
const manifests: { file: string; doc: Manifest }[] = readdirSync(k8sDir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((file) => parseAllDocuments(readFileSync(join(k8sDir, file), 'utf8')).map((d) => ({ file, doc: d.toJS() as Manifest })));
const pods = manifests.filter((m) => m.doc.spec?.template).map((m) => ({ name: m.doc.metadata.name, kind: m.doc.kind, pod: m.doc.spec!.template!.spec }));

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  it('every document is valid against the Kubernetes schema of its kind', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(6);
    for (const { file, doc } of manifests) {
      const Model = models[`${doc.apiVersion}/${doc.kind}`];
      expect(Model, `${file}: ${doc.apiVersion} ${doc.kind} has no model in this test`).toBeDefined();
      expect(() => new Model!(doc as never).validate(), `${file}: ${doc.kind} ${doc.metadata.name}`).not.toThrow();
    }
  });

  it('the schema check catches a wrong manifest (the test can fail)', () => {
    const bad = structuredClone(manifests.find((m) => m.doc.kind === 'Deployment')!.doc) as unknown as { spec: { replicas: unknown } };
    bad.spec.replicas = 'two';
    expect(() => new Deployment(bad as never).validate()).toThrow(/replicas/);
  });

  it('the scope worker and the control plane run with probes, resources, non-root, and secrets as read-only files', () => {
    const services = pods.filter((p) => p.kind === 'Deployment');
    expect(services.map((p) => p.name).sort()).toEqual(['livescope-control-plane', 'livescope-scope-worker']);
    for (const { name, pod } of services) {
      expect(pod.securityContext?.runAsNonRoot, name).toBe(true);
      const c: IContainer = pod.containers[0]!;
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) expect(probe?.httpGet?.path, name).toMatch(/^\/(healthz|readyz)$/);
      expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
      expect(c.resources?.requests?.cpu && c.resources.requests.memory && c.resources.limits?.memory, `${name} resources`).toBeTruthy();
      expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
      // Secrets come from files of a mounted Secret, never from environment values.
      const env = c.env ?? [];
      expect(env.filter((e) => e.valueFrom?.secretKeyRef !== undefined)).toEqual([]);
      for (const e of env.filter((x) => x.name.endsWith('_FILE'))) expect(e.value, e.name).toMatch(/^\/run\/secrets\/livescope\//);
      expect(c.volumeMounts).toContainEqual({ name: 'secrets', mountPath: '/run/secrets/livescope', readOnly: true });
      expect(pod.volumes?.find((v) => v.name === 'secrets')?.secret?.secretName).toBe('livescope-secrets');
    }
    // The worker's probes reach it only if it listens beyond loopback.
    const worker = services.find((p) => p.name === 'livescope-scope-worker')!.pod.containers[0]!;
    expect(worker.env).toContainEqual({ name: 'LIVESCOPE_METRICS_HOST', value: '0.0.0.0' });
  });
});

describe('Dockerfile (one target per service)', () => {
  const text = readFileSync(join(repoDir, 'Dockerfile'), 'utf8');
  /** Each stage: its name, base and lines. */
  const stages = text.split(/^(?=FROM )/m).filter((b) => b.startsWith('FROM ')).map((b) => ({ from: /^FROM (\S+)/.exec(b)![1]!, name: / AS (\S+)/.exec(b.split('\n')[0]!)?.[1], body: b }));
  const stage = (name: string) => stages.find((s) => s.name === name)!;

  it('builds in stages on Node 24 and runs as the user node', () => {
    for (const s of stages) expect(s.from, `stage ${s.name}`).toMatch(/^(node:24[-.]\S+|build|runtime)$/);
    expect(stage('runtime').from).toMatch(/^node:24-/);
    expect(stage('runtime').body).toMatch(/^USER node$/m);
    expect(stage('runtime').body).not.toMatch(/COPY --from=build /);
  });

  it.each([
    ['scope-worker', 9464, 'LIVESCOPE_METRICS_HOST'],
    ['control-plane', 8787, 'LIVESCOPE_API_HOST'],
    ['interop', 8470, 'LIVESCOPE_INTEROP_HOST'],
  ])('target %s: its entry point, its port on 0.0.0.0, a health check, on the runtime stage', (svc, port, hostVar) => {
    const s = stage(svc);
    expect(s.from).toBe('runtime');
    // The worker runs with its V8 flags (services/scope-worker/node-flags.json); the others with none.
    const flags = svc === 'scope-worker' ? workerFlags : [];
    expect(s.body).toContain(`CMD ${JSON.stringify(['node', ...flags, `services/${svc}/dist/main.js`]).replaceAll('","', '", "')}`);
    expect(s.body).toContain(`ENV ${hostVar}=0.0.0.0`);
    expect(s.body).toContain(`EXPOSE ${port}`);
    expect(s.body).toMatch(new RegExp(`^HEALTHCHECK .*127\\.0\\.0\\.1:${port}/healthz`, 'm'));
    expect(s.body).not.toMatch(/^USER root/m);
  });
});

describe('the scope worker runs with its V8 flags wherever it is started', () => {
  it('the package start script carries services/scope-worker/node-flags.json', () => {
    const pkg = JSON.parse(readFileSync(join(repoDir, 'services/scope-worker/package.json'), 'utf8')) as { scripts: { start: string } };
    expect(workerFlags.length).toBeGreaterThan(0);
    expect(pkg.scripts.start).toBe(['node', ...workerFlags, 'dist/main.js'].join(' '));
  });
});

const hasDockerCompose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasDockerCompose)('deploy/docker-compose.system.yml (docker-compose validates offline)', () => {
  it('resolves with the infrastructure file into the whole system, secrets as files', () => {
    const r = spawnSync('docker-compose', ['-f', 'docker-compose.yml', '-f', 'deploy/docker-compose.system.yml', 'config'], { cwd: repoDir, encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr, 'docker-compose stderr').not.toMatch(/ERROR|invalid/i);
    expect(r.status).toBe(0);
    const resolved = parseAllDocuments(r.stdout)[0]!.toJS() as { services: Record<string, { environment?: Record<string, string>; secrets?: unknown[] }>; secrets: Record<string, { file: string }> };
    expect(Object.keys(resolved.services).sort()).toEqual(['control-plane', 'kafka', 'postgres', 'registry', 'scope-worker', 'topics']);
    expect(resolved.services['scope-worker']!.environment).toMatchObject({ LIVESCOPE_KAFKA_BROKERS: 'kafka:19092', LIVESCOPE_METRICS_HOST: '0.0.0.0', LIVESCOPE_SIGNING_KEY_FILE: '/run/secrets/signing_key' });
    expect(resolved.services['control-plane']!.environment).toMatchObject({ LIVESCOPE_API_HOST: '0.0.0.0', LIVESCOPE_PRODUCER_KEY_FILE: '/run/secrets/producer_key' });
    for (const s of Object.values(resolved.secrets)) expect(s.file).toContain('/deploy/secrets/');
  });
});
