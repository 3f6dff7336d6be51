import assert from 'node:assert/strict';
import { cpuWaitedMicroseconds } from '../bench/process-cpu.ts';

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
