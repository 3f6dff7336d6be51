import { type Cipheriv, createCipheriv, createHmac } from 'node:crypto';

/**
 * The pre-queue lottery. Everyone who joined before the queue was sealed at the opening is equal: arriving at
 * 09:59:58 is not better than 09:55:00. Each join number n gets a draw, AES-128 under the event's lottery key of
 * n (a keyed pseudo-random permutation, so no two numbers draw alike and nobody without the key can tell what the
 * next number will draw); the pre-queue goes in order of draw, and those who joined after the seal follow in join
 * order. A fan learns their own draw when they join (a share of the pre-queue ahead of them), so their page knows
 * roughly where they will stand before the opening, and a fan far back need not look at the opening at all: only
 * those whose draw puts them near the front do. The key is derived from the waiting room's secret, never stored;
 * it is published with the seal, so anyone can check the order afterwards.
 */

/** The sealed pre-queue: how many joined before the opening, and the key their draws came from (hex). */
export interface Lottery {
  size: number;
  key: string;
}

/** The most a pre-queue may hold: a join number takes 24 bits of the sort key. */
export const MAX_PRE_QUEUE = 2 ** 24 - 1;

/** The event's lottery key: HMAC of the waiting room's secret, under a label of its own. */
export function lotteryKey(secret: string, eventId: string): string {
  return createHmac('sha256', secret).update(`reservex queue lottery ${eventId}`).digest('hex').slice(0, 32);
}

function block(n: number, into: Buffer, at: number): void {
  into.writeUIntBE(n, at + 10, 6);
}

function cipher(key: string): Cipheriv {
  const c = createCipheriv('aes-128-ecb', Buffer.from(key, 'hex'), null);
  c.setAutoPadding(false);
  return c;
}

/**
 * The draws of one key, one AES block each. ECB keeps no state between blocks, so one cipher serves every draw of
 * an event (a cipher per draw cost 15 µs, a join's worth of time).
 */
export function lotteryDraws(key: string) {
  const c = cipher(key);
  const input = Buffer.alloc(16);
  return {
    /** Number n's draw, in [0, 1): the share of the pre-queue that will stand ahead of it. */
    drawOf(n: number): number {
      input.fill(0);
      block(n, input, 0);
      return c.update(input).readUIntBE(0, 6) / 2 ** 48;
    },
  };
}

/**
 * The whole order of a sealed pre-queue: which number stands at each place, and the place of each number. Computed
 * once per instance at the seal (a million draws, one AES pass and a typed-array sort: about 150 ms) and kept: eight
 * bytes per pre-queue fan.
 */
export class LotteryOrder {
  readonly size: number;
  readonly #byPlace: Uint32Array;
  readonly #byNumber: Uint32Array;

  constructor(lottery: Lottery) {
    const { size } = lottery;
    if (!Number.isInteger(size) || size < 0 || size > MAX_PRE_QUEUE)
      throw new RangeError(`a pre-queue of ${size} is outside 0…${MAX_PRE_QUEUE}`);
    this.size = size;
    const blocks = Buffer.alloc(size * 16);
    for (let n = 1; n <= size; n++) block(n, blocks, (n - 1) * 16);
    const drawn = cipher(lottery.key).update(blocks);
    // Sort keys of 64 bits, in little-endian halves: the draw's first 40 bits, then the number (ties: by number).
    const keys = new BigUint64Array(size);
    const halves = new Uint32Array(keys.buffer);
    for (let i = 0; i < size; i++) {
      halves[2 * i + 1] = drawn.readUInt32BE(i * 16);
      halves[2 * i] = ((drawn[i * 16 + 4]! << 24) | (i + 1)) >>> 0;
    }
    keys.sort();
    this.#byPlace = new Uint32Array(size);
    this.#byNumber = new Uint32Array(size + 1);
    for (let place = 1; place <= size; place++) {
      const n = halves[2 * (place - 1)]! & MAX_PRE_QUEUE;
      this.#byPlace[place - 1] = n;
      this.#byNumber[n] = place;
    }
  }

  /** The place of join number n: by draw inside the pre-queue, the number itself after it. */
  placeOf(n: number): number {
    return n > this.size ? n : this.#byNumber[n]!;
  }

  /** The join number standing at a place: what the admission step needs to find who stands there. */
  numberAt(place: number): number {
    return place > this.size ? place : this.#byPlace[place - 1]!;
  }
}
