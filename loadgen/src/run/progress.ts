import type { Recorder } from './recorder.ts';

function bar(fraction: number, width = 24): string {
  const full = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

/** One status line a second: on a terminal it redraws in place, in CI it prints every fifth second. */
export function progressLine(rec: Recorder, capacity: number, elapsedS: number): string {
  const last = rec.series.at(-1);
  const prev = rec.series.at(-2);
  const soldRate = last && prev ? last.soldSeats - prev.soldSeats : 0;
  return [
    `${String(elapsedS).padStart(4)}s`,
    bar(rec.soldSeats / capacity),
    `sold ${rec.soldSeats}/${capacity}`,
    `waiting ${rec.waiting}`,
    `admitted ${rec.admitted}`,
    `reserved ${rec.reservations}`,
    `failed ${rec.paymentFailed} (compensated)`,
    `expired ${rec.expired}`,
    `409s ${rec.conflicts}`,
    `${soldRate} seats/s`,
    `fans ${rec.usersDone}/${rec.usersArrived}`,
  ].join('  ');
}

export function startProgress(rec: Recorder, capacity: number, interactive: boolean): () => void {
  const started = Date.now();
  let tick = 0;
  const timer = setInterval(() => {
    rec.sample();
    tick++;
    const line = progressLine(rec, capacity, Math.round((Date.now() - started) / 1000));
    if (interactive) process.stdout.write(`\r\x1b[2K${line}`);
    else if (tick % 5 === 0) console.log(line);
  }, 1000);
  return () => {
    clearInterval(timer);
    if (interactive) process.stdout.write('\n');
  };
}
