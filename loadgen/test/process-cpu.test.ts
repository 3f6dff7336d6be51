import assert from 'node:assert/strict';
import { cpuWaitedMicroseconds, sessionDatabase } from '../bench/process-cpu.ts';

describe("the bench's reading of CPU pressure", () => {
  it('takes the time some task waited for a core from the kernel\'s "some" line, not the "full" one', () => {
    const psi =
      'some avg10=30.30 avg60=13.57 avg300=19.53 total=19043308268\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n';
    assert.equal(
      cpuWaitedMicroseconds(() => psi),
      19043308268,
    );
  });

  it('says it does not know where the kernel keeps no pressure figures, rather than reporting none', () => {
    assert.equal(
      cpuWaitedMicroseconds(() => {
        throw new Error('ENOENT');
      }),
      undefined,
    );
    assert.equal(
      cpuWaitedMicroseconds(() => 'full avg10=0.00 avg60=0.00 avg300=0.00 total=7\n'),
      undefined,
    );
  });
});

describe("the bench's reading of PostgreSQL's CPU by database", () => {
  it('names the database a session serves from its process title, over TCP and over the local socket', () => {
    assert.equal(sessionDatabase('postgres: reservex ticket 127.0.0.1(48932) idle'), 'ticket');
    assert.equal(
      sessionDatabase('postgres: reservex payment 127.0.0.1(49018) idle in transaction'),
      'payment',
    );
    assert.equal(sessionDatabase('postgres: postgres account [local] SELECT'), 'account');
  });

  it("counts the server's own processes under no database", () => {
    assert.equal(sessionDatabase('postgres: autovacuum launcher'), undefined);
    assert.equal(sessionDatabase('postgres: walwriter'), undefined);
    assert.equal(sessionDatabase('postgres: checkpointer'), undefined);
    assert.equal(sessionDatabase('postgres: logical replication launcher'), undefined);
  });
});
