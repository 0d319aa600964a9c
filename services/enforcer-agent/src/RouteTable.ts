import { z } from 'zod';

/**
 * How a request becomes an action and a resource. A path pattern is matched segment by segment:
 * a literal, `{name}` (one segment) or, last only, `{name*}` (the rest, at least one segment).
 * Captures, `{host}` and `{method}` fill the action and resource templates.
 */
export const RouteSchema = z.strictObject({
  /** Upper-case methods; absent: any. */
  methods: z.array(z.string().regex(/^[A-Z]{1,16}$/, 'must be an upper-case HTTP method')).min(1).optional(),
  /** Host without port, lower case, `*.example.com` for one label; absent: any. */
  host: z.string().regex(/^(\*\.)?[a-z0-9.-]{1,253}$/, 'must be a lower-case host name, optionally *.-prefixed').optional(),
  path: z.string().regex(/^\/[A-Za-z0-9._~\-/{}*:@!$&'()+,;=]*$/, 'must be an absolute path pattern'),
  action: z.string().min(1).max(256),
  resource: z.string().min(1).max(1024),
});
export type Route = z.output<typeof RouteSchema>;

/** A request as the proxy forwarded it (untrusted text). */
export interface RequestLine {
  readonly method: string;
  readonly host: string;
  /** The raw path as sent, with its query. */
  readonly path: string;
}

export type MappingResult =
  | { readonly ok: true; readonly action: string; readonly resource: string }
  | { readonly ok: false; readonly code: 'bad-request' | 'path-too-long' | 'path-traversal' | 'path-encoding' | 'unmapped'; readonly reason: string };

type Segment = { readonly kind: 'literal'; readonly text: string } | { readonly kind: 'one'; readonly name: string } | { readonly kind: 'rest'; readonly name: string };

interface CompiledRoute {
  readonly methods: ReadonlySet<string> | undefined;
  readonly host: string | undefined;
  readonly wildcardHost: boolean;
  readonly segments: readonly Segment[];
  readonly action: string;
  readonly resource: string;
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export class RouteTable {
  private readonly routes: readonly CompiledRoute[];

  constructor(
    routes: readonly Route[],
    private readonly maxPathBytes = 2048,
  ) {
    this.routes = routes.map((r, i) => compile(r, i));
  }

  /** Maps a request, refusing paths that could mean something else to the upstream than to us. */
  map(req: RequestLine): MappingResult {
    const method = req.method.toUpperCase();
    if (!/^[A-Z]{1,16}$/.test(method)) return { ok: false, code: 'bad-request', reason: 'the method is not an HTTP method' };
    // No host (a JSON check by path only) matches the routes that name none.
    const host = req.host === '' ? '' : normalizeHost(req.host);
    if (host === undefined) return { ok: false, code: 'bad-request', reason: 'the host is not a host name' };
    const path = safePath(req.path, this.maxPathBytes);
    if (!path.ok) return path;
    for (const r of this.routes) {
      if (r.methods && !r.methods.has(method)) continue;
      if (r.host !== undefined && (host === '' || !(r.wildcardHost ? host.endsWith(r.host) && !host.slice(0, -r.host.length).includes('.') && host.length > r.host.length : host === r.host))) continue;
      const captures = match(r.segments, path.segments);
      if (!captures) continue;
      captures.set('host', host);
      captures.set('method', method);
      const fill = (t: string): string => t.replace(PLACEHOLDER, (_, name: string) => captures.get(name) ?? '');
      return { ok: true, action: fill(r.action), resource: fill(r.resource) };
    }
    return { ok: false, code: 'unmapped', reason: `no route maps ${method} on this path to an action` };
  }
}

function compile(r: Route, index: number): CompiledRoute {
  const parts = r.path === '/' ? [] : r.path.slice(1).split('/');
  const segments: Segment[] = parts.map((p, i) => {
    if (p === '') throw new Error(`route ${index}: empty path segment in ${r.path}`);
    const m = /^\{([A-Za-z_][A-Za-z0-9_]*)(\*?)\}$/.exec(p);
    if (!m) {
      if (p.includes('{') || p.includes('}') || p.includes('*')) throw new Error(`route ${index}: a segment is a literal, {name} or {name*}: ${p}`);
      if (p === '.' || p === '..') throw new Error(`route ${index}: dot segments are not allowed in ${r.path}`);
      return { kind: 'literal', text: p };
    }
    if (m[2] === '*' && i !== parts.length - 1) throw new Error(`route ${index}: {${m[1]}*} must be the last segment`);
    return m[2] === '*' ? { kind: 'rest', name: m[1]! } : { kind: 'one', name: m[1]! };
  });
  const names = new Set(['host', 'method', ...segments.flatMap((s) => (s.kind === 'literal' ? [] : [s.name]))]);
  for (const t of [r.action, r.resource]) for (const m of t.matchAll(PLACEHOLDER)) if (!names.has(m[1]!)) throw new Error(`route ${index}: {${m[1]}} is not captured by ${r.path}`);
  const wildcardHost = r.host?.startsWith('*.') === true;
  return { methods: r.methods ? new Set(r.methods) : undefined, host: wildcardHost ? r.host!.slice(1) : r.host, wildcardHost, segments, action: r.action, resource: r.resource };
}

function match(pattern: readonly Segment[], segments: readonly string[]): Map<string, string> | undefined {
  const captures = new Map<string, string>();
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.kind === 'rest') {
      if (i >= segments.length) return undefined;
      captures.set(p.name, segments.slice(i).join('/'));
      return captures;
    }
    const s = segments[i];
    if (s === undefined) return undefined;
    if (p.kind === 'literal' ? s !== p.text : false) return undefined;
    if (p.kind === 'one') captures.set(p.name, s);
  }
  return segments.length === pattern.length ? captures : undefined;
}

function normalizeHost(raw: string): string | undefined {
  let h = raw.trim().toLowerCase();
  if (h.length === 0 || h.length > 300) return undefined;
  // host:port, or [v6]:port
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end < 0) return undefined;
    h = h.slice(0, end + 1);
    return /^\[[0-9a-f:.]+\]$/.test(h) ? h : undefined;
  }
  const colon = h.indexOf(':');
  if (colon >= 0) {
    if (!/^:\d{1,5}$/.test(h.slice(colon))) return undefined;
    h = h.slice(0, colon);
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  return /^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?)*$/.test(h) ? h : undefined;
}

type SafePath = { readonly ok: true; readonly segments: readonly string[] } | Extract<MappingResult, { ok: false }>;

/**
 * The decoded segments of a request path, or why it is refused. A path the upstream could read
 * differently than we do is denied, not normalised: dot segments (also encoded), encoded slashes
 * and backslashes, empty segments (`//`), NUL and control characters, invalid percent-encoding,
 * and paths longer than the limit.
 */
export function safePath(raw: string, maxBytes: number): SafePath {
  if (Buffer.byteLength(raw, 'utf8') > maxBytes) return { ok: false, code: 'path-too-long', reason: `the path is longer than ${maxBytes} bytes` };
  const q = raw.search(/[?#]/);
  const path = q < 0 ? raw : raw.slice(0, q);
  if (!path.startsWith('/')) return { ok: false, code: 'bad-request', reason: 'the path is not absolute' };
   
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return { ok: false, code: 'path-encoding', reason: 'the path holds a control character or a backslash' };
  if (/%(2f|5c|00)/i.test(path)) return { ok: false, code: 'path-encoding', reason: 'the path holds an encoded slash, backslash or NUL' };
  if (path === '/') return { ok: true, segments: [] };
  const parts = path.slice(1).split('/');
  const segments: string[] = [];
  for (const [i, p] of parts.entries()) {
    // A trailing slash is the one empty segment allowed (`/orders/`); `//` anywhere else is refused.
    if (p === '') {
      if (i === parts.length - 1) continue;
      return { ok: false, code: 'path-traversal', reason: 'the path holds an empty segment (//)' };
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(p);
    } catch {
      return { ok: false, code: 'path-encoding', reason: 'the path holds invalid percent-encoding' };
    }
     
    if (/[\u0000-\u001f\u007f/\\]/.test(decoded)) return { ok: false, code: 'path-encoding', reason: 'a path segment decodes to a control character or a slash' };
    if (/%[0-9a-f]{2}/i.test(decoded)) return { ok: false, code: 'path-encoding', reason: 'the path is percent-encoded twice' };
    if (decoded === '.' || decoded === '..') return { ok: false, code: 'path-traversal', reason: 'the path holds a dot segment (. or ..)' };
    segments.push(decoded);
  }
  return { ok: true, segments };
}
