import assert from 'node:assert/strict';
import { MultipleErrors, NetworkError, ProtocolError, TimeoutError } from '@platformatic/kafka';
import { publishFailure } from '../src/index.ts';

/** A produce failure as the Kafka client reports one: the broker's answers, nested in an aggregate. */
const producing = (...ids: string[]) =>
  new MultipleErrors(
    'Producing messages failed.',
    ids.map((id) => new ProtocolError(id)),
  );

describe('what the outbox relay does with a message Kafka did not take', () => {
  const cases: Array<[string, string[], 'retry' | 'set-aside']> = [
    ['a message larger than the topic takes is set aside', ['MESSAGE_TOO_LARGE'], 'set-aside'],
    ['a record batch larger than the broker takes is set aside', ['RECORD_LIST_TOO_LARGE'], 'set-aside'],
    ['a record the broker finds invalid is set aside', ['INVALID_RECORD'], 'set-aside'],
    ['a record that arrives corrupt on every attempt is set aside', ['CORRUPT_MESSAGE'], 'set-aside'],
    ['a topic authorisation refused is retried', ['TOPIC_AUTHORIZATION_FAILED'], 'retry'],
    ['a cluster authorisation refused is retried', ['CLUSTER_AUTHORIZATION_FAILED'], 'retry'],
    ['an invalid topic name is retried', ['INVALID_TOPIC_EXCEPTION'], 'retry'],
    ['an unknown topic is retried', ['UNKNOWN_TOPIC_OR_PARTITION'], 'retry'],
    ['a leader that moved is retried', ['NOT_LEADER_OR_FOLLOWER'], 'retry'],
    ['a leader not yet elected is retried', ['LEADER_NOT_AVAILABLE'], 'retry'],
    ['too few in-sync replicas is retried', ['NOT_ENOUGH_REPLICAS'], 'retry'],
    ['a broker-side timeout is retried', ['REQUEST_TIMED_OUT'], 'retry'],
    [
      'a timestamp out of the topic’s range is retried (the producer stamps each attempt afresh)',
      ['INVALID_TIMESTAMP', 'UNKNOWN_SERVER_ERROR'],
      'retry',
    ],
    ['a compression the broker does not support is retried', ['UNSUPPORTED_COMPRESSION_TYPE'], 'retry'],
    ['an unknown server error is retried', ['UNKNOWN_SERVER_ERROR'], 'retry'],
    [
      'a batch with one message too large among retryable answers is set aside, to be sorted one by one',
      ['NOT_LEADER_OR_FOLLOWER', 'MESSAGE_TOO_LARGE'],
      'set-aside',
    ],
  ];
  for (const [sentence, ids, expected] of cases)
    it(sentence, () => {
      assert.equal(publishFailure(producing(...ids)), expected);
    });

  it('a broker that cannot be reached is retried', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' });
    assert.equal(publishFailure(new NetworkError('Connection failed', { cause: refused })), 'retry');
  });

  it('a client-side timeout is retried', () => {
    assert.equal(publishFailure(new TimeoutError('Request timed out')), 'retry');
  });

  it('an error that is no answer from Kafka at all is retried', () => {
    assert.equal(publishFailure(new TypeError('cannot read properties of undefined')), 'retry');
    assert.equal(publishFailure(undefined), 'retry');
  });

  it('a refusal nested as the cause of another error is still found', () => {
    const nested = new MultipleErrors('Sending failed.', [
      new NetworkError('retries exhausted', { cause: producing('RECORD_LIST_TOO_LARGE') }),
    ]);
    assert.equal(publishFailure(nested), 'set-aside');
  });
});
