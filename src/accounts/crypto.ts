// Credentials at rest: AES-256-GCM (node:crypto) with a random 96-bit IV per
// write and the account id as additional data, so a ciphertext copied onto
// another account's document does not decrypt. The key is GATEWAY_ENCRYPTION_KEY;
// outside production, without one, a fixed development key is used (the
// documents then say `kid: "dev"` and are readable by anyone with this code).
// Other secrets the accounts need (the OAuth `state` signature) are derived
// from the same key with HKDF, so one variable covers every instance.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

export interface EncryptedBlob {
  /** Format version. */
  readonly v: 1;
  /** Which key: the first 8 hex of its SHA-256, or `dev`. */
  readonly kid: string;
  readonly iv: string;
  readonly tag: string;
  readonly data: string;
}

export interface Sealer {
  /** `dev` when no key is configured (development only). */
  readonly kid: string;
  seal(value: unknown, aad: string): EncryptedBlob;
  /** Throws DecryptError naming the key mismatch or tampering. */
  open<T>(blob: EncryptedBlob, aad: string): T;
  /** A 32-byte key for another purpose (HMAC of OAuth state), derived from this one. */
  derive(purpose: string): Buffer;
}

export class DecryptError extends Error {
  override readonly name = 'DecryptError';
}

const DEV_KEY = createHash('sha256').update('messaging-gateway development key: not a secret, set GATEWAY_ENCRYPTION_KEY').digest();

export function createSealer(key: Buffer | null): Sealer {
  const secret = key ?? DEV_KEY;
  if (secret.length !== 32) throw new Error(`AES-256-GCM needs a 32-byte key, got ${secret.length} bytes`);
  const kid = key ? createHash('sha256').update(key).digest('hex').slice(0, 8) : 'dev';
  return {
    kid,
    seal(value, aad) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', secret, iv);
      cipher.setAAD(Buffer.from(aad, 'utf8'));
      const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
      return { v: 1, kid, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
    },
    open<T>(blob: EncryptedBlob, aad: string): T {
      if (blob.kid !== kid) {
        throw new DecryptError(
          blob.kid === 'dev'
            ? 'the credentials were stored without GATEWAY_ENCRYPTION_KEY (development key); reconnect the account'
            : `the credentials were encrypted with another GATEWAY_ENCRYPTION_KEY (key id ${blob.kid}, configured ${kid})`,
        );
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', secret, Buffer.from(blob.iv, 'base64'));
        decipher.setAAD(Buffer.from(aad, 'utf8'));
        decipher.setAuthTag(Buffer.from(blob.tag, 'base64'));
        const text = Buffer.concat([decipher.update(Buffer.from(blob.data, 'base64')), decipher.final()]).toString('utf8');
        return JSON.parse(text) as T;
      } catch {
        throw new DecryptError('the stored credentials do not decrypt (tampered with, or moved from another account)');
      }
    },
    derive(purpose) {
      return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `messaging-gateway ${purpose}`, 32));
    },
  };
}
