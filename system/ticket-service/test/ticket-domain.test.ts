import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { parseAdmissionRecord } from '../src/domain/admission-record.ts';
import { admissionTokens } from '../src/domain/admission-token.ts';
import { capacityOf, rowLabel, seatsFromLayout } from '../src/domain/event-layout.ts';

/** ticket-service's small domain pieces, alone: no server, no database. */
describe('ticket domain (pure)', () => {
  it('labels rows as tickets do: A..Z, then AA, AB, …, AZ, BA', () => {
    assert.deepEqual([0, 1, 25, 26, 27, 51, 52, 701, 702].map(rowLabel), [
      'A',
      'B',
      'Z',
      'AA',
      'AB',
      'AZ',
      'BA',
      'ZZ',
      'AAA',
    ]);
  });

  it('lays out every seat of every section, numbered from 1 in each row, at its section price', () => {
    const sections = [
      { name: 'VIP', rows: 2, seatsPerRow: 3, price: 198_000 },
      { name: 'R', rows: 1, seatsPerRow: 2, price: 154_000 },
    ];
    const seats = seatsFromLayout(sections);
    assert.equal(seats.length, capacityOf(sections));
    assert.equal(capacityOf(sections), 8);
    assert.deepEqual(seats[0], { section: 'VIP', row: 'A', number: 1, price: 198_000 });
    assert.deepEqual(seats[5], { section: 'VIP', row: 'B', number: 3, price: 198_000 });
    assert.deepEqual(seats[7], { section: 'R', row: 'A', number: 2, price: 154_000 });
  });

  it('reads an admission record, a user id with bars in it included, and nothing malformed', () => {
    assert.deepEqual(parseAdmissionRecord('u-1|42|1764500000000'), {
      userId: 'u-1',
      ticket: 42,
      admittedAt: 1764500000000,
    });
    assert.deepEqual(parseAdmissionRecord('a|b|7|9'), { userId: 'a|b', ticket: 7, admittedAt: 9 });
    for (const bad of ['', 'u|x|1', 'u|1', 'u|1|2|', '|1|'])
      assert.equal(parseAdmissionRecord(bad), undefined, JSON.stringify(bad));
  });

  describe('admission tokens', () => {
    const tokens = admissionTokens('a-secret-of-enough-length-for-hs256');
    const admission = { userId: 'u1', eventId: 'e1', tokenId: 't1' };

    it('verify for their own user and event, and give back the token id', async () => {
      const token = await tokens.sign(admission, 60);
      assert.deepEqual(await tokens.verify(token, 'u1', 'e1'), admission);
    });

    it('name what is wrong: missing, someone else’s, another event’s, expired, forged', async () => {
      const token = await tokens.sign(admission, 60);
      assert.equal(await tokens.verify(undefined, 'u1', 'e1'), 'missing');
      assert.equal(await tokens.verify('', 'u1', 'e1'), 'missing');
      assert.equal(await tokens.verify(token, 'u2', 'e1'), 'wrong-user');
      assert.equal(await tokens.verify(token, 'u1', 'e2'), 'wrong-event');
      assert.equal(await tokens.verify(await tokens.sign(admission, -1), 'u1', 'e1'), 'expired');
      assert.equal(
        await admissionTokens('another-secret-of-enough-length!').verify(token, 'u1', 'e1'),
        'invalid',
      );
      assert.equal(await tokens.verify(`${token.slice(0, -2)}xx`, 'u1', 'e1'), 'invalid');
    });

    it('refuse a correctly signed token from another issuer, or one with no token id', async () => {
      const key = new TextEncoder().encode('a-secret-of-enough-length-for-hs256');
      const sign = (issuer: string, jti?: string) => {
        const jwt = new SignJWT({ evt: 'e1' })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(issuer)
          .setSubject('u1');
        return (jti === undefined ? jwt : jwt.setJti(jti)).setExpirationTime('60s').sign(key);
      };
      assert.equal(await tokens.verify(await sign('someone-else', 't1'), 'u1', 'e1'), 'invalid');
      assert.equal(await tokens.verify(await sign('reservex-waiting-room'), 'u1', 'e1'), 'invalid');
    });
  });
});
