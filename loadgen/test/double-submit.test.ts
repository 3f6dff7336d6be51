import assert from 'node:assert/strict';
import { doubleSubmitAnswered } from '../src/fans/adversaries.ts';

const booked = (id: string, at = 2) => ({ status: 202, body: { id }, at });
const refused = (status: number, at = 1) => ({ status, body: { type: 'x' }, at });

describe('judging a request sent twice at once (the double-submit misbehaviour)', () => {
  it('is right when both answers name the same booking, or both refuse alike', () => {
    assert.equal(doubleSubmitAnswered(booked('r1'), booked('r1')), true);
    assert.equal(doubleSubmitAnswered(refused(409), refused(409)), true);
    assert.equal(doubleSubmitAnswered(refused(403), refused(403)), true);
  });

  it('is right when the one served first lost a seat race the other then won', () => {
    assert.equal(doubleSubmitAnswered(refused(409, 1), booked('r1', 2)), true);
    assert.equal(doubleSubmitAnswered(booked('r1', 2), refused(409, 1)), true);
  });

  it('is wrong when the 409 came after the booking: a request refused for its own sibling’s seats', () => {
    assert.equal(doubleSubmitAnswered(booked('r1', 1), refused(409, 2)), false);
  });

  it('is wrong when one click made two bookings, or the answers disagree otherwise', () => {
    assert.equal(doubleSubmitAnswered(booked('r1'), booked('r2')), false);
    assert.equal(doubleSubmitAnswered(booked('r1'), refused(403)), false);
    assert.equal(doubleSubmitAnswered(refused(409), refused(403)), false);
    assert.equal(doubleSubmitAnswered(undefined, booked('r1')), false);
  });
});
