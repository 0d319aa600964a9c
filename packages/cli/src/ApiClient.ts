import { backoffDelay, sleep } from '@livescope/errors';

/** An error answer of the API, or a failure to reach it (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly paths: readonly string[] = [],
    /** How long the API asked to wait before retrying (`Retry-After`), when it said. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /**
   * Worth sending again unchanged: the API is unavailable (503) or rate limited (429), or the
   * answer never came (unreachable, timed out). Only safe with an idempotency key.
   */
  get retriable(): boolean {
    return this.status === 503 || this.status === 429 || (this.status === 0 && (this.code === 'TIMEOUT' || this.code === 'UNREACHABLE'));
  }
}

/** How a POST is retried: under one idempotency key, so that the API publishes it at most once. */
export interface RetryPolicy {
  readonly idempotencyKey: string;
  /** Attempts in all, the first included. */
  readonly attempts: number;
  /** Wait before the first retry when the API names none (`Retry-After`); doubles each time with jitter (@livescope/errors' backoffDelay), at most `maxDelayMs`. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Told before each retry: what failed, which attempt comes, after how long. */
  readonly onRetry?: (e: ApiError, attempt: number, delayMs: number) => void;
  /** Ends the waits between attempts (Ctrl-C). */
  readonly signal?: AbortSignal;
}

const REQUEST_TIMEOUT_MS = 30_000;
/** Pages `getAll` follows at most (a server that always answers a next page must not loop the CLI). */
const MAX_PAGES = 1000;

/** `Retry-After` in ms: seconds, or an HTTP date. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const s = Number(header);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** The CLI's HTTP client of the control-plane API (bearer token, JSON, error bodies as ApiError). */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | undefined,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  get<T>(path: string, query: Record<string, string | number | undefined> = {}, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    const q = qs.toString();
    return this.request<T>('GET', q ? `${path}?${q}` : path, undefined, timeoutMs);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body, REQUEST_TIMEOUT_MS);
  }

  /**
   * POSTs with an `Idempotency-Key` and sends the same request again, under the same key, while the
   * answer is retriable (503, 429, none) and attempts remain: the API answers a retry with the first
   * answer and never publishes twice. Waits what the API asks (`Retry-After`), else backs off.
   */
  async postIdempotent<T>(path: string, body: unknown, policy: RetryPolicy): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.request<T>('POST', path, body, REQUEST_TIMEOUT_MS, { 'idempotency-key': policy.idempotencyKey });
      } catch (e) {
        if (!(e instanceof ApiError) || !e.retriable || attempt >= policy.attempts || policy.signal?.aborted) throw e;
        const delayMs = e.retryAfterMs !== undefined ? Math.min(policy.maxDelayMs, e.retryAfterMs) : backoffDelay(attempt, policy.baseDelayMs, policy.maxDelayMs);
        policy.onRetry?.(e, attempt + 1, delayMs);
        await sleep(delayMs, policy.signal);
        if (policy.signal?.aborted) throw e;
      }
    }
  }

  /** Opens a Server-Sent Events stream; the caller reads `body`. */
  async stream(path: string, query: Record<string, string | undefined>, lastEventId: string | undefined, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, v);
    const q = qs.toString();
    const headers: Record<string, string> = { accept: 'text/event-stream', ...this.auth() };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    const res = await this.call(`${path}${q ? `?${q}` : ''}`, { method: 'GET', headers, signal });
    if (!res.ok) throw await this.errorOf(res);
    if (!res.body) throw new ApiError(0, 'NO_BODY', 'the event stream has no body');
    return res.body;
  }

  private auth(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  private async request<T>(method: string, path: string, body: unknown, timeoutMs: number, extraHeaders: Record<string, string> = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json', ...this.auth(), ...extraHeaders };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.call(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw await this.errorOf(res);
    return (await res.json()) as T;
  }

  private async call(path: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetchImpl(`${this.baseUrl.replace(/\/+$/, '')}${path}`, init);
    } catch (e) {
      const err = e as Error;
      if (err.name === 'TimeoutError') throw new ApiError(0, 'TIMEOUT', `the API at ${this.baseUrl} did not answer in time`);
      if (err.name === 'AbortError') throw err;
      throw new ApiError(0, 'UNREACHABLE', `cannot reach the API at ${this.baseUrl}: ${(err.cause as Error | undefined)?.message ?? err.message}`);
    }
  }

  /**
   * Every item of a paged list: follows `nextCursor` until the last page (the API's one pagination,
   * `cursor` + `limit`). `items` picks the page's array; the rest of the first page is kept.
   */
  async getAll<T extends { nextCursor: string | null }, I>(path: string, query: Record<string, string | number | undefined>, items: (page: T) => readonly I[]): Promise<{ first: T; items: I[] }> {
    const first = await this.get<T>(path, query);
    const all = [...items(first)];
    for (let page = first, n = 0; page.nextCursor !== null; n++) {
      if (n >= MAX_PAGES) throw new ApiError(0, 'TOO_MANY_PAGES', `${path}: more than ${MAX_PAGES} pages; narrow the query`);
      page = await this.get<T>(path, { ...query, cursor: page.nextCursor });
      all.push(...items(page));
    }
    return { first, items: all };
  }

  private async errorOf(res: Response): Promise<ApiError> {
    const text = await res.text().catch(() => '');
    const after = retryAfterMs(res.headers.get('retry-after'));
    try {
      // An RFC 9457 problem (application/problem+json): `code` is the stable code, `detail` the text.
      const j = JSON.parse(text) as { code?: unknown; title?: unknown; detail?: unknown; paths?: unknown; correlationId?: unknown };
      if (typeof j.code === 'string' || typeof j.detail === 'string') {
        const detail = typeof j.detail === 'string' ? j.detail : typeof j.title === 'string' ? j.title : res.statusText;
        // A server error names the log lines it left: quote them to whoever reads the logs.
        const message = `${detail}${res.status >= 500 && typeof j.correlationId === 'string' ? ` (correlation id ${j.correlationId})` : ''}`;
        const paths = Array.isArray(j.paths) ? j.paths.filter((p): p is string => typeof p === 'string') : [];
        return new ApiError(res.status, typeof j.code === 'string' ? j.code : 'ERROR', message, paths, after);
      }
    } catch {
      // not JSON
    }
    return new ApiError(res.status, 'HTTP_ERROR', `${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`, [], after);
  }
}
