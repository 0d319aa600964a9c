import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { scenario, type Scenario, type ScenarioName } from '@livescope/simulator';
import type { PipelineFixture } from '@livescope/testkit';

/** A release manager key for signed release windows, as the worker's LIVESCOPE_RELEASE_SIGNERS expects. */
export function releaseManager(name = 'release-manager'): { name: string; env: string; sign: (payload: string) => string } {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as { d: string; x: string };
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: jwk.d, x: jwk.x }, format: 'jwk' });
  return { name, env: JSON.stringify({ [name]: jwk.x }), sign: (payload) => sign(null, Buffer.from(payload), key).toString('base64url') };
}

/** The published example policy set (examples/policies/*.cedar). */
export function examplePolicyFiles(): { id: string; text: string }[] {
  const dir = fileURLToPath(new URL('../../examples/policies/', import.meta.url));
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cedar'))
    .sort()
    .map((f) => ({ id: f.replace(/\.cedar$/, ''), text: readFileSync(`${dir}${f}`, 'utf8') }));
}

/**
 * Plays a scenario script against a pipeline in real time (`minuteMs` per scenario minute), with
 * message timestamps = now so the worker's timers run on the wall clock. `onStep` runs after each
 * step's events are durably on the topic.
 */
export async function play(fx: PipelineFixture, name: ScenarioName, minuteMs: number, signer: ReturnType<typeof releaseManager>, onStep?: (index: number, s: Scenario) => Promise<void>): Promise<Scenario> {
  const startMs = Date.now();
  const s = scenario(name, { startMs, minuteMs, runId: `${fx.id}-${name}`, signReleaseWindow: signer.sign, releaseSigner: signer.name });
  for (const [i, step] of s.steps.entries()) {
    const wait = startMs + step.at - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (step.events.length) await fx.publish(step.events.map((e) => ({ ...e, time: new Date().toISOString() })));
    await onStep?.(i, s);
  }
  return s;
}
