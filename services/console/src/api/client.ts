import type { ApiErrorBody } from './types';

/** An API answer other than 2xx: `code` is the API's stable error code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface Api {
  get<T>(path: string, signal?: AbortSignal): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
}

/**
 * Calls the control plane's API (same origin) with the bearer token. A 401 means the token is no
 * longer accepted: `onUnauthorized` signs the user out.
 */
export function createApi(token: string, onUnauthorized: (message: string) => void): Api {
  const call = async <T>(method: 'GET' | 'POST', path: string, body: unknown, signal?: AbortSignal): Promise<T> => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json, application/problem+json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, { method, headers, cache: 'no-store', ...(body !== undefined ? { body: JSON.stringify(body) } : {}), ...(signal ? { signal } : {}) });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = json as Partial<ApiErrorBody> | undefined;
      const err = new ApiError(res.status, typeof e?.code === 'string' ? e.code : `HTTP_${res.status}`, typeof e?.detail === 'string' ? e.detail : text || res.statusText);
      if (res.status === 401) onUnauthorized(err.message);
      throw err;
    }
    return json as T;
  };
  return {
    get: (path, signal) => call('GET', path, undefined, signal),
    post: (path, body) => call('POST', path, body),
  };
}

/** What a token says about itself (not verified here: the API verifies every call). */
export function tokenClaims(token: string): { sub?: string; exp?: number; roles?: string[] } {
  try {
    const part = token.split('.')[1] ?? '';
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    return JSON.parse(json) as { sub?: string; exp?: number; roles?: string[] };
  } catch {
    return {};
  }
}
