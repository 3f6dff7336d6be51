// `node loadgen/src/report/fault-evidence.ts report.json`: exits non-zero unless the run's report shows that its
// faults took effect. A chaos run that passes because its faults never happened proves nothing.
import { readFileSync } from 'node:fs';
import type { RunReport } from './run-report.ts';

/** What is missing from the report for its faults to count; empty when every fault left its evidence. */
export function missingEvidence(report: Pick<RunReport, 'faults' | 'payments' | 'invariants'>): string[] {
  const missing: string[] = [];
  for (const f of report.faults) {
    if (f.error !== undefined) missing.push(`"${f.label}" could not be injected or undone: ${f.error}`);
    if (f.recoverySeconds === null)
      missing.push(`"${f.label}" has no recovery time: the saga never drained after it`);
    if (f.fault.action === 'network' && f.observed === undefined)
      missing.push(`"${f.label}" was never probed`);
    // A cut link must show as the dependency DOWN; a slow one only slows it, which the probe's time records.
    if (
      f.fault.action === 'network' &&
      ['partition', 'timeout'].includes(f.fault.toxic) &&
      !/ DOWN\b/.test(f.observed ?? '')
    )
      missing.push(`"${f.label}": the service never saw its dependency down (${f.observed ?? 'no probe'})`);
    if (f.fault.action === 'provider-outage' && !/ 503$/.test(f.observed ?? ''))
      missing.push(
        `"${f.label}": the provider did not answer 503 during its outage (${f.observed ?? 'no probe'})`,
      );
  }
  const lostAnswers = report.faults.length > 0 && report.payments !== null;
  if (lostAnswers && report.payments!.inDoubt === 0)
    missing.push('no payment went in doubt: the provider never lost an answer');
  if (report.payments !== null && report.payments.unresolved > 0)
    missing.push(`${report.payments.unresolved} payment(s) still in doubt at the end`);
  if (!report.invariants.some((i) => i.name === 'provider-ledger-reconciles' && i.verdict === 'PASS'))
    missing.push("the provider's ledger was not reconciled");
  return missing;
}

if (import.meta.main) {
  const file = process.argv[2];
  if (file === undefined) {
    console.error('usage: node loadgen/src/report/fault-evidence.ts <report.json>');
    process.exit(2);
  }
  const report = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
  const missing = missingEvidence(report);
  for (const f of report.faults)
    console.log(`${f.label}: ${f.observed ?? 'no probe'}; drained ${f.recoverySeconds} s after`);
  if (report.payments !== null)
    console.log(
      `payments in doubt: ${report.payments.inDoubt}, resolved p99 ${report.payments.resolutionMs.p99} ms, unresolved ${report.payments.unresolved}`,
    );
  if (missing.length > 0) {
    console.error(`the report lacks evidence that its faults took effect:\n  ${missing.join('\n  ')}`);
    process.exit(1);
  }
}
