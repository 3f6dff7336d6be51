import assert from 'node:assert/strict';
import { jwtVerify, SignJWT } from 'jose';
import { admittedAtOfId, parseAdmissionRecord } from '../src/domain/admission-record.ts';
import { admissionTokens } from '../src/domain/admission-token.ts';
import { capacityOf, rowLabel, seatsFromLayout } from '../src/domain/event-layout.ts';
import { hs256Jwt } from '../src/domain/hs256-jwt.ts';
import { queueTickets } from '../src/domain/queue-ticket.ts';

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

  it('reads when an admission was given from its id, and nothing from an id of the older form or a malformed one', () => {
    assert.equal(admittedAtOfId('1234567.42.1764500000000'), 1764500000000);
    for (const older of ['1234567.42', '', 'x.42.1764500000000', '1.2.3.4', '1.2.', '1..3'])
      assert.equal(admittedAtOfId(older), undefined, JSON.stringify(older));
  });

  describe('admission tokens', () => {
    const tokens = admissionTokens('a-secret-of-enough-length-for-hs256');
    const admission = { userId: 'u1', eventId: 'e1', tokenId: 't1' };

    it('verify for their own user and event, and give back the token id', async () => {
      const token = tokens.sign(admission, 60);
      assert.deepEqual(tokens.verify(token, 'u1', 'e1'), admission);
    });

    it('name what is wrong: missing, someone else’s, another event’s, expired, forged', async () => {
      const token = tokens.sign(admission, 60);
      assert.equal(tokens.verify(undefined, 'u1', 'e1'), 'missing');
      assert.equal(tokens.verify('', 'u1', 'e1'), 'missing');
      assert.equal(tokens.verify(token, 'u2', 'e1'), 'wrong-user');
      assert.equal(tokens.verify(token, 'u1', 'e2'), 'wrong-event');
      assert.equal(tokens.verify(tokens.sign(admission, -1), 'u1', 'e1'), 'expired');
      assert.equal(admissionTokens('another-secret-of-enough-length!').verify(token, 'u1', 'e1'), 'invalid');
      assert.equal(tokens.verify(`${token.slice(0, -2)}xx`, 'u1', 'e1'), 'invalid');
    });

    it('refuse a correctly signed token from another issuer, or one with no token id', async () => {
      const key = new TextEncoder().encode('a-secret-of-enough-length-for-hs256');
      const sign = (issuer: string, jti?: string) => {
        const jwt = new SignJWT({ evt: 'e1' })
          .setProtectedHeader({ alg: 'HS256', typ: 'admission+jwt' })
          .setIssuer(issuer)
          .setSubject('u1');
        return (jti === undefined ? jwt : jwt.setJti(jti)).setExpirationTime('60s').sign(key);
      };
      assert.equal(tokens.verify(await sign('someone-else', 't1'), 'u1', 'e1'), 'invalid');
      assert.equal(tokens.verify(await sign('reservex-waiting-room'), 'u1', 'e1'), 'invalid');
    });
  });

  describe('the waiting room’s HS256 tokens', () => {
    const SECRET = 'a-secret-of-enough-length-for-hs256';
    const jwt = hs256Jwt(SECRET);
    const key = new TextEncoder().encode(SECRET);
    const b64 = (json: unknown) => Buffer.from(JSON.stringify(json)).toString('base64url');

    it('are standard JWTs: jose reads ours, and ours read a token jose signed', async () => {
      const ours = jwt.sign('queue-ticket+jwt', { iss: 'w', sub: 'u1', num: 3 }, 60);
      const { payload, protectedHeader } = await jwtVerify(ours, key, { issuer: 'w', algorithms: ['HS256'] });
      assert.deepEqual([protectedHeader.typ, payload.sub, payload.num], ['queue-ticket+jwt', 'u1', 3]);
      const theirs = await new SignJWT({ num: 4 })
        .setProtectedHeader({ alg: 'HS256', typ: 'queue-ticket+jwt' })
        .setIssuer('w')
        .setSubject('u2')
        .setExpirationTime('60s')
        .sign(key);
      const claims = jwt.verify(theirs, 'queue-ticket+jwt', 'w');
      assert.ok(typeof claims === 'object');
      assert.deepEqual([claims.sub, claims.num], ['u2', 4]);
    });

    it('refuse another type, another issuer, a changed claim, another key, alg none, a second spelling of the signature', () => {
      const token = jwt.sign('queue-ticket+jwt', { iss: 'w', sub: 'u1' }, 60);
      const [head, body, signature] = token.split('.') as [string, string, string];
      assert.equal(jwt.verify(token, 'admission+jwt', 'w'), 'invalid');
      assert.equal(jwt.verify(token, 'queue-ticket+jwt', 'x'), 'invalid');
      const changed = b64({ iss: 'w', sub: 'u2', exp: Math.floor(Date.now() / 1000) + 60 });
      assert.equal(jwt.verify(`${head}.${changed}.${signature}`, 'queue-ticket+jwt', 'w'), 'invalid');
      assert.equal(
        hs256Jwt('another-secret-of-enough-length!').verify(token, 'queue-ticket+jwt', 'w'),
        'invalid',
      );
      const none = b64({ alg: 'none', typ: 'queue-ticket+jwt' });
      assert.equal(jwt.verify(`${none}.${body}.`, 'queue-ticket+jwt', 'w'), 'invalid');
      assert.equal(jwt.verify(`${none}.${body}.${signature}`, 'queue-ticket+jwt', 'w'), 'invalid');
      // 32 bytes in 43 characters leave two bits over: a last character that differs only there decodes the same.
      const last = signature.at(-1)!;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const twin = alphabet[alphabet.indexOf(last) ^ 1]!;
      assert.deepEqual(
        Buffer.from(signature.slice(0, -1) + twin, 'base64url'),
        Buffer.from(signature, 'base64url'),
      );
      assert.equal(
        jwt.verify(`${head}.${body}.${signature.slice(0, -1)}${twin}`, 'queue-ticket+jwt', 'w'),
        'invalid',
      );
      assert.equal(jwt.verify(`${token}.x`, 'queue-ticket+jwt', 'w'), 'invalid');
      assert.equal(typeof jwt.verify(token, 'queue-ticket+jwt', 'w'), 'object');
    });

    it('are expired at their exp, and not yet good before their nbf', () => {
      const now = Date.now();
      const token = jwt.sign('t', { iss: 'w' }, 60, now);
      assert.equal(typeof jwt.verify(token, 't', 'w', now + 59_000), 'object');
      assert.equal(jwt.verify(token, 't', 'w', now + 61_000), 'expired');
      const later = jwt.sign('t', { iss: 'w', nbf: Math.floor(now / 1000) + 30 }, 60, now);
      assert.equal(jwt.verify(later, 't', 'w', now), 'invalid');
      assert.equal(typeof jwt.verify(later, 't', 'w', now + 31_000), 'object');
    });

    it('keep queue tickets and admission tokens apart, though one key signs both', () => {
      const tickets = queueTickets(SECRET);
      const tokens = admissionTokens(SECRET);
      const ticket = tickets.sign({ userId: 'u1', eventId: 'e1', number: 7 });
      const admission = tokens.sign({ userId: 'u1', eventId: 'e1', tokenId: 't1', number: 7 }, 60);
      assert.deepEqual(tickets.verify(ticket, 'u1', 'e1'), { userId: 'u1', eventId: 'e1', number: 7 });
      assert.equal(tickets.verify(admission, 'u1', 'e1'), 'invalid');
      assert.equal(tokens.verify(ticket, 'u1', 'e1'), 'invalid');
      assert.equal(tickets.verify(ticket, 'u2', 'e1'), 'wrong-user');
      assert.equal(tickets.verify(ticket, 'u1', 'e2'), 'wrong-event');
    });

    it('carry when the fan joined, when the join said; a ticket without it is still good', () => {
      const tickets = queueTickets(SECRET);
      const dated = tickets.sign({ userId: 'u1', eventId: 'e1', number: 7, joinedAt: 1_700_000_000_123 });
      assert.deepEqual(tickets.verify(dated, 'u1', 'e1'), {
        userId: 'u1',
        eventId: 'e1',
        number: 7,
        joinedAt: 1_700_000_000_123,
      });
      const undated = tickets.sign({ userId: 'u1', eventId: 'e1', number: 7 });
      assert.equal((tickets.verify(undated, 'u1', 'e1') as { joinedAt?: number }).joinedAt, undefined);
    });
  });
});
