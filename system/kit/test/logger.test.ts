import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../src/index.ts';

describe('structured logs', () => {
  it('never write a password or a token, wherever it sits in the logged object', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger('test', 'info', sink);
    logger.info(
      {
        password: 'hunter2-top',
        body: { password: 'hunter2-body', refreshToken: 'rt_secret_body' },
        user: { accessToken: 'eyJ.secret.sig' },
        req: { headers: { authorization: 'Bearer eyJ.secret.header' } },
        requestId: 'abc',
      },
      'something happened',
    );
    const line = lines.join('');
    for (const secret of [
      'hunter2-top',
      'hunter2-body',
      'rt_secret_body',
      'eyJ.secret.sig',
      'eyJ.secret.header',
    ]) {
      assert.equal(line.includes(secret), false, `${secret} leaked into ${line}`);
    }
    assert.match(line, /"requestId":"abc"/);
    assert.match(line, /\[redacted\]/);
  });
});
