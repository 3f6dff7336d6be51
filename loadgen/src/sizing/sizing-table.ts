import type { Figure, ReportSource } from './figure.ts';
import type { Sizing } from './on-sale-sizing.ts';
import type { RunPrediction } from './run-prediction.ts';
import { short } from './service-demand.ts';

const pad = (s: string, n: number) => s.padEnd(n);

function sourceLines(sources: ReportSource[]): string[] {
  return sources.map((s) => `  ${pad(s.report, 14)} ${pad(s.file, 44)} ${s.measuredAt}   (${s.command})`);
}

const row = (label: string, f: Figure) => `  ${pad(label, 34)} ${pad(short(f.value), 12)} ${f.from}`;

/** The sizing as the command line prints it: what it read, the peak, each component, and the first wall. */
export function renderSizing(s: Sizing): string {
  const o = s.onSale;
  const lines = [
    '',
    `ReserveX sizing: ${short(o.fans.value)} fans for ${short(o.seats.value)} seats over ${short(o.events.value)} event(s), arriving over ${short(o.arrivalMinutes.value)} min, selling out in ${short(o.sellOutMinutes.value)} min`,
    '',
    'measured on this machine, read from',
    ...sourceLines(s.sources),
    '',
    'the on-sale (flags) and the headroom (named parameters)',
    ...Object.entries(o).map(([k, f]) => row(k, f)),
    ...Object.entries(s.headroom).map(([k, f]) => row(k, f)),
    '',
    `the crowd, as the ${s.crowd.source.report} behaved`,
    ...Object.entries(s.crowd)
      .filter(([k]) => k !== 'source')
      .map(([k, f]) => row(k, f as Figure)),
    '',
    'at the peak',
    ...Object.entries(s.peak).map(([k, f]) => row(k, f)),
    '',
    `  ${pad('component', 40)} ${pad('load at the peak', 30)} ${pad('one unit counts for', 22)} needed`,
  ];
  for (const c of s.components) {
    const wall = c.wall === null ? '' : `   wall: ${Math.round(c.wall.share * 100)}% of ${c.wall.what}`;
    lines.push(
      `  ${pad(c.component, 40)} ${pad(`${short(c.load.value)} ${c.loadUnit}`, 30)} ${pad(short(c.perUnit.value), 22)} ${short(c.units)} ${c.unitName}${wall}`,
    );
  }
  lines.push('');
  const w = s.firstWall;
  lines.push(
    w === null
      ? 'first wall: none of the limits more units cannot move is loaded'
      : w.share >= 1
        ? `first wall: ${w.component}, ${w.what}: PAST IT, at ${Math.round(w.share * 100)}% of what it may carry; spread the sale over more events or shrink it ${short(w.share)}×`
        : `first wall: ${w.component}, ${w.what}, at ${Math.round(w.share * 100)}% of what it may carry: this on-sale can grow ${short(w.growth)}× (fans and seats together) before it binds`,
  );
  lines.push('', 'how each load and unit is worked out');
  for (const c of s.components)
    lines.push(`  ${c.component}: ${c.load.from}`, `    one unit: ${c.perUnit.from}`);
  lines.push('');
  return lines.join('\n');
}

/** The check of a run against the model's prediction, one line per service. */
export function renderPrediction(p: RunPrediction): string {
  const lines = [
    '',
    `the model against ${p.run.file} (${p.run.measuredAt}): busy cores over the sampled stretch`,
    ...sourceLines(p.sources),
    '',
    `  ${pad('service', 18)} ${pad('replicas', 9)} ${pad('predicted', 11)} ${pad('measured', 11)} ${pad('error', 8)} verdict`,
  ];
  for (const s of p.services)
    lines.push(
      `  ${pad(s.service, 18)} ${pad(String(s.replicas), 9)} ${pad(short(s.predictedCores), 11)} ${pad(short(s.measuredCores), 11)} ${pad(`${s.error >= 0 ? '+' : ''}${Math.round(s.error * 100)}%`, 8)} ${s.judged ? (s.pass ? 'PASS' : `FAIL (beyond ±${p.tolerance * 100}%)`) : 'shown, not judged'}`,
    );
  lines.push('', 'how each prediction is worked out (CPU seconds)');
  for (const s of p.services)
    lines.push(`  ${short(s.predictedCpuSeconds.value)} s: ${s.predictedCpuSeconds.from}`);
  lines.push('', 'work the run did that no bench prices:', ...p.unpriced.map((u) => `  - ${u}`), '');
  return lines.join('\n');
}
