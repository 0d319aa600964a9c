/**
 * The payload of a compact JWS, decoded WITHOUT verifying its signature (the shell verifies against a
 * JWKS when one is configured). Returns undefined when the text is not a compact JWS with a JSON payload.
 */
export function decodeJwtPayload(text: string): { header: unknown; payload: unknown } | undefined {
  const parts = text.trim().split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)) || !parts[0] || !parts[1]) return undefined;
  try {
    return { header: JSON.parse(base64UrlDecode(parts[0])) as unknown, payload: JSON.parse(base64UrlDecode(parts[1])) as unknown };
  } catch {
    return undefined;
  }
}

function base64UrlDecode(s: string): string {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  const binary = atob(b64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}
