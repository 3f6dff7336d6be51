import assert from 'node:assert/strict';
import { missingEvidence } from '../src/report/fault-evidence.ts';
import type { RunReport } from '../src/report/run-report.ts';

type Evidence = Pick<RunReport, 'faults' | 'payments' | 'invariants'>;

const fault = (over: Partial<RunReport['faults'][number]>): RunReport['faults'][number] => ({
  label: 'partition between payment-service and postgres for 6 s',
  fault: {
    atSeconds: 3,
    action: 'network',
    between: ['payment-service', 'postgres'],
    toxic: 'partition',
    forSeconds: 6,
  },
  startedAt: '2026-11-30T00:00:00Z',
  atSecond: 3,
  endedAtSecond: 9,
  recoverySeconds: 2,
  observed: 'payment-service readiness 503, postgres DOWN (timeout), answered in 2001 ms',
  ...over,
});

const healthy = (): Evidence => ({
  faults: [
    fault({}),
    fault({
      label: 'payment provider outage (fast 503s) for 6 s',
      fault: { atSeconds: 18, action: 'provider-outage', forSeconds: 6 },
      observed: 'the provider answered a lookup with 503',
    }),
  ],
  payments: {
    inDoubt: 12,
    resolutionMs: { p50: 300, p99: 6000, max: 6100, count: 12 },
    unresolved: 0,
    providerCaptures: 100,
    providerRefunds: 4,
    lateCaptures: 0,
    wastedCaptures: 0,
    paidInTime: 96,
    paidInTimeLost: 0,
    refusedHoldExpired: 0,
  },
  invariants: [
    {
      name: 'provider-ledger-reconciles',
      title: 'Provider ledger reconciles',
      verdict: 'PASS',
      detail: '',
      examples: [],
    },
  ],
});

describe('the evidence that a chaos run’s faults took effect', () => {
  it('accepts a report where every fault left its mark', () => {
    assert.deepEqual(missingEvidence(healthy()), []);
  });

  it('rejects a partition the service never saw, and a provider outage that answered 200', () => {
    const r = healthy();
    r.faults[0]!.observed = 'payment-service readiness 200, postgres UP, answered in 3 ms';
    r.faults[1]!.observed = 'the provider answered a lookup with 404';
    const missing = missingEvidence(r);
    assert.equal(missing.length, 2, missing.join('\n'));
    assert.match(missing[0]!, /never saw its dependency down/);
    assert.match(missing[1]!, /did not answer 503/);
  });

  it('rejects a run where no payment went in doubt, or one stayed in doubt, or the ledger was not reconciled', () => {
    const r = healthy();
    r.payments!.inDoubt = 0;
    r.payments!.unresolved = 1;
    r.invariants = [];
    assert.deepEqual(
      missingEvidence(r).map((m) => m.slice(0, 28)),
      ['no payment went in doubt: th', '1 payment(s) still in doubt ', "the provider's ledger was no"],
    );
  });

  it('rejects a fault with no recovery time, or one that failed to inject', () => {
    const r = healthy();
    r.faults[0]!.recoverySeconds = null;
    r.faults[1]!.error = 'provider refused the change';
    assert.equal(missingEvidence(r).length, 2);
  });
});
