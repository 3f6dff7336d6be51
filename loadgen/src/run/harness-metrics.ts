import { createServer, type Server } from 'node:http';
import { Gauge, Histogram, Registry } from 'prom-client';
import type { Recorder } from './recorder.ts';

/**
 * The load generator's own view for Prometheus (job reservex-harness in prometheus.yml): fans by state and the
 * latencies they saw, read from the recorder at each scrape. Client-side figures next to the services'
 * server-side ones show how much of the wait is the network and the queue.
 */
export function harnessMetrics(recorder: Recorder, scenario: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'loadgen', scenario });
  const gauge = (name: string, help: string, label: string, read: () => Iterable<[string, number]>) =>
    new Gauge({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        for (const [value, n] of read()) this.set({ [label]: value }, n);
      },
    });
  const r = recorder;
  gauge('loadgen_virtual_users', 'Virtual users by state', 'state', () =>
    Object.entries({
      arrived: r.usersArrived,
      signed_in: r.signedIn,
      waiting: r.waiting,
      admitted: r.admitted,
      done: r.usersDone,
      left_waiting: r.abandonedWaiting,
      left_admitted: r.abandonedAdmitted,
    }),
  );
  gauge('loadgen_bookings', 'Bookings the fans saw end, by outcome (cumulative)', 'outcome', () =>
    Object.entries({
      reserved: r.reservations,
      confirmed: r.confirmed,
      payment_failed: r.paymentFailed,
      expired: r.expired,
      conflict_409: r.conflicts,
      seats_sold: r.soldSeats,
    }),
  );
  gauge('loadgen_http_responses', 'HTTP responses the fans received, by status (cumulative)', 'status', () =>
    r.http.entries(),
  );
  const confirm = new Histogram({
    name: 'loadgen_reserve_to_confirmed_seconds',
    help: 'Client-side: from POST /api/reservations to seeing CONFIRMED',
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120],
    registers: [registry],
  });
  const wait = new Histogram({
    name: 'loadgen_queue_wait_seconds',
    help: 'Client-side: from joining the queue to being admitted',
    buckets: [1, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  let confirmSeen = 0;
  let waitSeen = 0;
  // Observed from the recorder's kept samples, once per scrape: the recorder stays free of metric code.
  const catchUp = () => {
    for (; confirmSeen < recorder.confirmLatencies.length; confirmSeen++)
      confirm.observe(recorder.confirmLatencies[confirmSeen]! / 1000);
    for (; waitSeen < recorder.queueWaits.length; waitSeen++)
      wait.observe(recorder.queueWaits[waitSeen]! / 1000);
  };

  let server: Server | undefined;
  return {
    registry,
    async metricsText(): Promise<string> {
      catchUp();
      return registry.metrics();
    },
    /** Serves /metrics; a port already taken (another run) is reported, not fatal. */
    async listen(port: number): Promise<string | undefined> {
      server = createServer(async (req, res) => {
        if (req.url !== '/metrics') {
          res.writeHead(404).end();
          return;
        }
        catchUp();
        res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
      });
      return new Promise((resolve) => {
        server!.once('error', (e: Error) => resolve(`harness metrics not served on ${port}: ${e.message}`));
        server!.listen(port, '127.0.0.1', () => resolve(undefined));
      });
    },
    close: () => server?.close(),
  };
}
