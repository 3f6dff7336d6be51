import assert from 'node:assert/strict';
import { PAYMENT_FAILURE_REASONS } from '@reservex/contracts';
import { ApiError } from '../src/api.ts';
import { describeError, withRetry } from '../src/errors.ts';
import { MESSAGES, translator } from '../src/i18n.ts';

const en = translator('en');
const ko = translator('ko');

describe('web: every API answer becomes a message with a next step', () => {
  const cases: Array<[ApiError, RegExp]> = [
    [
      new ApiError(409, 'seat-unavailable', 'One or more of the seats is already held or sold'),
      /pick another/,
    ],
    [new ApiError(409, 'seat-limit', 'At most 4 seats per user'), /most seats allowed/],
    [
      new ApiError(403, 'admission-expired', 'The admission token has expired'),
      /Join the waiting room again/,
    ],
    [new ApiError(403, 'admission-spent', 'used or lapsed'), /Join the waiting room again/],
    [new ApiError(403, 'forbidden', 'This needs the admin role'), /Only an admin/],
    [new ApiError(429, 'rate-limited', 'Too many queue joins', 7), /Wait 7 s, then try again/],
    [new ApiError(503, 'unavailable', 'busy', 3), /Wait 3 s, then try again; nothing was lost/],
    [new ApiError(0, 'network', 'fetch failed'), /Check your network/],
    [new ApiError(401, 'token-expired', 'expired'), /sign in again/],
    [
      new ApiError(401, 'invalid-credentials', 'Email or password is wrong'),
      /email or password is not right/,
    ],
    [new ApiError(409, 'email-taken', 'exists'), /sign in instead/],
    [new ApiError(409, 'queue-closed', 'draining'), /no new fans/],
    [new ApiError(409, 'event-started', 'The event started'), /show has started/],
  ];
  for (const [error, expected] of cases)
    it(`${error.status} ${error.kind}`, () => {
      assert.match(describeError(error, en), expected);
      // The Korean page says something of its own, never the English text or a bare key.
      const korean = describeError(error, ko);
      assert.notEqual(korean, describeError(error, en));
      assert.doesNotMatch(korean, /^error\./);
    });

  it('shows a validation problem with the fields it names', () => {
    const error = new ApiError(400, 'validation', 'The request is invalid', undefined, [
      { pointer: '/sections/0/rows', detail: 'must be at least 1' },
    ]);
    assert.match(describeError(error, en), /\/sections\/0\/rows must be at least 1/);
  });

  it('explains every reason a payment can fail with, in both languages', () => {
    for (const reason of PAYMENT_FAILURE_REASONS) {
      assert.ok(`reason.${reason}` in MESSAGES.en, reason);
      assert.ok(`reason.${reason}` in MESSAGES.ko, reason);
    }
  });

  it('shows a key it has no words for as itself, rather than breaking the page', () => {
    assert.equal(en('reason.from-a-newer-api' as never), 'reason.from-a-newer-api');
  });

  it('has every message in both languages, with the same placeholders', () => {
    for (const [key, english] of Object.entries(MESSAGES.en)) {
      const korean = MESSAGES.ko[key as keyof typeof MESSAGES.en];
      const names = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      assert.deepEqual(names(korean), names(english), key);
    }
  });

  it('retries what is safe to repeat while the API sheds load, as Retry-After says, and gives up on the rest', async () => {
    let calls = 0;
    const waits: number[] = [];
    const answer = await withRetry(
      async () => {
        calls += 1;
        if (calls < 3) throw new ApiError(503, 'unavailable', 'busy', 0.01);
        return 'booked';
      },
      (seconds) => waits.push(seconds),
    );
    assert.equal(answer, 'booked');
    assert.deepEqual(waits, [0.01, 0.01]);
    let conflicts = 0;
    await assert.rejects(
      withRetry(async () => {
        conflicts += 1;
        throw new ApiError(409, 'seat-unavailable', 'taken');
      }),
      /taken/,
    );
    assert.equal(conflicts, 1, 'a 409 is an answer, not a reason to try again');
  });

  it('gives up after the tries it is given, and a join may be given more', async () => {
    const turnedAway = (count: { n: number }) => async () => {
      count.n += 1;
      throw new ApiError(503, 'overloaded', 'busy', 0.001);
    };
    const usual = { n: 0 };
    await assert.rejects(withRetry(turnedAway(usual)), /busy/);
    assert.equal(usual.n, 9);
    const join = { n: 0 };
    await assert.rejects(withRetry(turnedAway(join), undefined, 20), /busy/);
    assert.equal(join.n, 21);
  });
});
