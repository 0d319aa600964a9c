import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RouteTable, safePath } from './RouteTable.js';

const table = new RouteTable([
  { methods: ['GET'], host: 'api.example', path: '/orders/{id}', action: 'orders:read', resource: 'orders/{id}' },
  { host: '*.files.example', path: '/{rest*}', action: 'files:{method}', resource: '{host}/{rest}' },
  { path: '/', action: 'root:read', resource: 'root' },
]);

describe('RouteTable', () => {
  it('maps method, host and path; first match wins; host ports and case do not matter', () => {
    expect(table.map({ method: 'get', host: 'API.example:8443', path: '/orders/42?x=1' })).toEqual({ ok: true, action: 'orders:read', resource: 'orders/42' });
    expect(table.map({ method: 'PUT', host: 'eu.files.example', path: '/a/b%20c.txt' })).toEqual({ ok: true, action: 'files:PUT', resource: 'eu.files.example/a/b c.txt' });
    expect(table.map({ method: 'GET', host: 'x.eu.files.example', path: '/a' })).toMatchObject({ ok: false, code: 'unmapped' });
    expect(table.map({ method: 'GET', host: 'files.example', path: '/a' })).toMatchObject({ ok: false, code: 'unmapped' });
    expect(table.map({ method: 'GET', host: 'other', path: '/' })).toEqual({ ok: true, action: 'root:read', resource: 'root' });
    expect(table.map({ method: 'GET', host: 'bad host', path: '/' })).toMatchObject({ ok: false, code: 'bad-request' });
  });

  it('no decoded segment of an accepted path is a dot segment or holds a slash, whatever the input', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', '.', '..', '%2e', '%2E%2e', '%2f', '%5C', '/', '%', '%25', '%00', 'b%20', '\\', ';', '?'), { maxLength: 12 }), (parts) => {
        const r = safePath(`/${parts.join('')}`, 2048);
        if (r.ok) for (const s of r.segments) expect(s === '.' || s === '..' || s.includes('/') || s.includes('\\') || s === '').toBe(false);
      }),
    );
  });
});
