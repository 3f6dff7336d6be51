import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
let installed = false;

/**
 * The services, balancer and proxy a run starts end with the run, however it ends. A run stopped by a signal sent
 * to the generator alone (not its whole process group, as a terminal's Ctrl-C does) used to leave them running, and
 * the next run then reused services that still ran the old code.
 */
export function endWithThisProcess(child: ChildProcess): ChildProcess {
  if (!installed) {
    installed = true;
    process.once('exit', () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    });
    // Without a listener these signals end the process at once, skipping the 'exit' listeners above.
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
      ['SIGHUP', 129],
    ] as const)
      process.once(signal, () => process.exit(code));
  }
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
