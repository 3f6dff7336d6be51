import { type Logger, type Pool, ServiceUnavailableProblem } from '@reservex/kit';
import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import type { SigningKey } from '../domain/access-tokens.ts';
import {
  loadOrCreateSigningKey,
  type PublishedKey,
  publishedKeys,
  rotateSigningKey,
} from '../store/signing-keys.ts';

const RELOAD_COOLDOWN_MS = 5000;

/**
 * The key that signs new tokens and the keys that verify them, reloaded from the database now and then, so a
 * rotation made on one instance reaches every instance without a restart.
 */
export class SigningKeyRing {
  readonly #pool: Pool;
  readonly #secret: string;
  readonly #logger: Logger;
  #current: SigningKey | undefined;
  #verifyKeys: JWTVerifyGetKey | undefined;
  #timer: NodeJS.Timeout | undefined;
  #loadedAt = 0;

  constructor(pool: Pool, secret: string, logger: Logger) {
    this.#pool = pool;
    this.#secret = secret;
    this.#logger = logger;
  }

  async load(): Promise<void> {
    this.#current = await loadOrCreateSigningKey(this.#pool, this.#secret);
    this.#verifyKeys = createLocalJWKSet({ keys: await publishedKeys(this.#pool) });
    this.#loadedAt = Date.now();
  }

  startReloading(everySeconds: number): void {
    this.#timer = setInterval(() => {
      this.load().catch((error) => this.#logger.warn({ err: error }, 'could not reload the signing keys'));
    }, everySeconds * 1000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  current(): SigningKey {
    if (this.#current === undefined)
      throw new ServiceUnavailableProblem(
        2,
        'Signing in is not available yet: the service is still starting',
      );
    return this.#current;
  }

  /** Every key, newest first, as /.well-known/jwks.json publishes them. */
  published(): Promise<PublishedKey[]> {
    return publishedKeys(this.#pool);
  }

  async rotate(): Promise<SigningKey> {
    await rotateSigningKey(this.#pool, this.#secret);
    await this.load();
    this.#logger.info({ kid: this.current().kid }, 'signing key rotated');
    return this.current();
  }

  /**
   * For verifying this service's own tokens: a key id not seen yet triggers a reload before giving up, at most
   * one every few seconds, so forged key ids cannot make every request a database read.
   */
  readonly verifyKeys: JWTVerifyGetKey = async (header, token) => {
    try {
      return await this.#verifyKeys!(header, token);
    } catch (error) {
      if (Date.now() - this.#loadedAt < RELOAD_COOLDOWN_MS) throw error;
      await this.load();
      if (this.#verifyKeys === undefined) throw error;
      return this.#verifyKeys(header, token);
    }
  };
}
