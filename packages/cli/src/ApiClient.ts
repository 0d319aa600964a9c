/** An error answer of the API, or a failure to reach it (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly paths: readonly string[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const REQUEST_TIMEOUT_MS = 30_000;

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

  private async request<T>(method: string, path: string, body: unknown, timeoutMs: number): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.auth() };
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

  private async errorOf(res: Response): Promise<ApiError> {
    const text = await res.text().catch(() => '');
    try {
      const j = JSON.parse(text) as { error?: { code?: string; message?: string; paths?: string[] } };
      if (j.error) return new ApiError(res.status, j.error.code ?? 'ERROR', j.error.message ?? res.statusText, j.error.paths ?? []);
    } catch {
      // not JSON
    }
    return new ApiError(res.status, 'HTTP_ERROR', `${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`);
  }
}
