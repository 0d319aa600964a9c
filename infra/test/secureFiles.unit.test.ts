import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The secured broker's secrets and certificates (infra/lib.sh): made once, kept while valid, made
 * again when missing or expiring, never readable by others. Runs the real functions with openssl in
 * a private LIVESCOPE_HOME; starts nothing.
 */
const lib = fileURLToPath(new URL('../lib.sh', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'livescope-secure-'));
const secure = join(home, 'secure');
afterAll(() => rmSync(home, { recursive: true, force: true }));
const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

function lib_(script: string): string {
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LIVESCOPE_'))), LIVESCOPE_HOME: home };
  return execFileSync('bash', ['-c', `set -euo pipefail; source '${lib}'; ${script}`], { env, encoding: 'utf8' });
}
const openssl = (...args: string[]): string => execFileSync('openssl', args, { encoding: 'utf8' });
const serial = (file: string): string => openssl('x509', '-noout', '-serial', '-in', join(secure, file)).trim();
const mode = (file: string): string => (statSync(join(secure, file)).mode & 0o777).toString(8);

describe.skipIf(!hasOpenssl)('secured broker files', () => {
  it('makes one password per user and a CA-signed broker certificate for localhost and 127.0.0.1, secrets 0600', () => {
    const out = lib_('secure_ensure_dir; secure_ensure_passwords; secure_ensure_certs; echo "renewed=$SECURE_CERTS_RENEWED"; printf "%s\\n" "${SECURE_USERS[@]}"');
    expect(out).toContain('renewed=1');
    const users = out.trim().split('\n').slice(-6);
    expect(users).toEqual(['admin', 'scope-worker', 'control-plane', 'interop', 'simulator', 'enforcer']);
    for (const u of users) {
      expect(readFileSync(join(secure, `${u}.password`), 'utf8').trim()).toMatch(/^[0-9a-f]{48}$/);
      expect(mode(`${u}.password`)).toBe('600');
    }
    for (const f of ['ca.key', 'broker.key', 'broker.keystore.pem']) expect(mode(f), f).toBe('600');
    expect((statSync(secure).mode & 0o777).toString(8)).toBe('700');
    expect(openssl('verify', '-CAfile', join(secure, 'ca.pem'), join(secure, 'broker.pem'))).toContain('OK');
    expect(openssl('x509', '-noout', '-ext', 'subjectAltName', '-in', join(secure, 'broker.pem'))).toMatch(/DNS:localhost, IP Address:127\.0\.0\.1/);
    // Kafka's PEM keystore: the key, then the chain.
    expect(readFileSync(join(secure, 'broker.keystore.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----[\s\S]*BEGIN CERTIFICATE[\s\S]*BEGIN CERTIFICATE/);
  });

  it('keeps valid files as they are', () => {
    const before = [serial('ca.pem'), serial('broker.pem'), readFileSync(join(secure, 'enforcer.password'), 'utf8')];
    expect(lib_('secure_ensure_passwords; secure_ensure_certs; echo "renewed=$SECURE_CERTS_RENEWED"')).toContain('renewed=0');
    expect([serial('ca.pem'), serial('broker.pem'), readFileSync(join(secure, 'enforcer.password'), 'utf8')]).toEqual(before);
  });

  it('makes the broker certificate again when it expires within a week, keeping the CA', () => {
    const ca = serial('ca.pem');
    const old = serial('broker.pem');
    // The same key, signed by the same CA, for one day only: valid, but expiring.
    openssl('req', '-new', '-key', join(secure, 'broker.key'), '-subj', '/CN=localhost', '-out', join(home, 'b.csr'));
    openssl('x509', '-req', '-in', join(home, 'b.csr'), '-CA', join(secure, 'ca.pem'), '-CAkey', join(secure, 'ca.key'), '-set_serial', '7', '-days', '1', '-out', join(secure, 'broker.pem'));
    expect(openssl('verify', '-CAfile', join(secure, 'ca.pem'), join(secure, 'broker.pem'))).toContain('OK');
    const expiring = serial('broker.pem');
    expect(lib_('secure_ensure_certs; echo "renewed=$SECURE_CERTS_RENEWED"')).toContain('renewed=1');
    expect(serial('ca.pem')).toBe(ca);
    expect(serial('broker.pem')).not.toBe(old);
    expect(serial('broker.pem')).not.toBe(expiring);
    expect(openssl('verify', '-CAfile', join(secure, 'ca.pem'), join(secure, 'broker.pem'))).toContain('OK');
  });

  it('makes a new CA when its key is missing, and a broker certificate signed by it', () => {
    const ca = serial('ca.pem');
    rmSync(join(secure, 'ca.key'));
    lib_('secure_ensure_certs');
    expect(serial('ca.pem')).not.toBe(ca);
    expect(openssl('verify', '-CAfile', join(secure, 'ca.pem'), join(secure, 'broker.pem'))).toContain('OK');
  });

  it('prints the variables that connect a process as a user, and refuses unknown users', () => {
    expect(lib_('secure_env enforcer')).toBe(
      [
        'LIVESCOPE_KAFKA_BROKERS=127.0.0.1:9094',
        'LIVESCOPE_KAFKA_SSL=true',
        `LIVESCOPE_KAFKA_SSL_CA_FILE=${secure}/ca.pem`,
        'LIVESCOPE_KAFKA_SASL_MECHANISM=scram-sha-512',
        'LIVESCOPE_KAFKA_SASL_USERNAME=enforcer',
        `LIVESCOPE_KAFKA_SASL_PASSWORD_FILE=${secure}/enforcer.password`,
        '',
      ].join('\n'),
    );
    expect(() => lib_('secure_env mallory 2>/dev/null')).toThrow();
  });
});
