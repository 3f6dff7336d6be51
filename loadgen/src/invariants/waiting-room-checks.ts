import type { InvariantCheck } from './types.ts';

const skipped = (what: string) => ({
  verdict: 'SKIP' as const,
  detail: `${what}: the system under test has no waiting room yet`,
  examples: [],
});

export const noReservationWithoutAdmission: InvariantCheck = {
  id: 7,
  name: 'No reservation without an admission',
  async run({ waitingRoom }) {
    return waitingRoom ? { verdict: 'FAIL', detail: 'not implemented', examples: [] } : skipped('admissions');
  },
};

export const fairQueueOrder: InvariantCheck = {
  id: 8,
  name: 'Fair queue order',
  async run({ waitingRoom }) {
    return waitingRoom
      ? { verdict: 'FAIL', detail: 'not implemented', examples: [] }
      : skipped('queue order');
  },
};
