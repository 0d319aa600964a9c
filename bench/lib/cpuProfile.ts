import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: our packages by name, dependencies by package, V8 and Node internals. */
export function areaOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'V8 garbage collector';
  if (fn === '(idle)' || fn === '(program)') return fn;
  const ours = /\/(packages|services)\/([^/]+)\//.exec(url);
  if (ours && !url.includes('node_modules')) return `livescope ${ours[2]}`;
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (dep) return dep[1]!;
  if (url.startsWith('node:')) return `node ${url.slice(5).split('/')[0]}`;
  return url === '' ? 'native / builtins' : 'other';
}

/** Self time by function and by area of a V8 `.cpuprofile`, as text. */
export function summarizeProfile(path: string, top = 30): string {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const time = new Map<number, number>();
  // A sample after a SIGSTOP carries the whole pause; such gaps (> 200 ms) are not CPU time.
  let paused = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    if (dt > 200_000) {
      paused += dt;
      continue;
    }
    time.set(p.samples[i]!, (time.get(p.samples[i]!) ?? 0) + dt);
  }
  const byFn = new Map<string, number>();
  const byArea = new Map<string, number>();
  let total = 0;
  for (const n of p.nodes) {
    const t = time.get(n.id) ?? 0;
    total += t;
    const { functionName, url, lineNumber } = n.callFrame;
    const name = `${functionName || '(anonymous)'}  ${url.replace(/^.*\/(packages|services|node_modules)\//, '$1/')}:${lineNumber + 1}`;
    byFn.set(name, (byFn.get(name) ?? 0) + t);
    const area = areaOf(url, functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + t);
  }
  const busy = total - (byArea.get('(idle)') ?? 0);
  const line = (k: string, t: number): string => `${((t / busy) * 100).toFixed(1).padStart(5)}%  ${(t / 1000).toFixed(0).padStart(7)} ms  ${k}`;
  const areas = [...byArea].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]);
  const fns = [...byFn].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    `busy ${(busy / 1e6).toFixed(1)} s of ${(total / 1e6).toFixed(1)} s sampled (idle ${(((byArea.get('(idle)') ?? 0) / total) * 100).toFixed(0)}%; ${(paused / 1e6).toFixed(1)} s held by SIGSTOP left out); shares below are of busy time`,
    'self time by area:',
    ...areas.map(([k, t]) => line(k, t)),
    `top ${top} functions by self time:`,
    ...fns.map(([k, t]) => line(k, t)),
  ].join('\n');
}
