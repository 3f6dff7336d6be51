// npm run bench:saga — the whole booking saga at saturation, on the real services, with no waiting room in the
// way: reserve → payment → confirm or compensate over Kafka, driven by an open-model arrival rate.
import { scryptSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Consumer, stringDeserializers } from '@platformatic/kafka';
import { ALL_TOPICS } from '@reservex/contracts';
import type { Targets } from '@reservex/stack';
import { Redis } from 'ioredis';
import pg from 'pg';
import { FAN_PASSWORD_LOG2N } from '../src/fans/fan-accounts.ts';
import { seededRandom, shuffle } from '../src/random.ts';
import { setProviderFaults } from '../src/run/provider-faults.ts';
import { percentile } from '../src/run/recorder.ts';
import { startSelfMonitor } from '../src/run/self-monitor.ts';
import { type BenchStack, benchStack, log, redisCommandsProcessed, withDatabase } from './bench-stack.ts';
import { bookingPgbench, pgbenchN } from './booking-pgbench.ts';
import { openArrivals } from './open-arrivals.ts';
import { type StatementCount, statementSnapshot, statementsBetween } from './pg-statements.ts';
import { cpuBetween, cpuSnapshot, cpuWaitedMicroseconds, postgresCpuByDatabase } from './process-cpu.ts';
import { type BookingStamps, HOPS, type HopFigures, hopFigures } from './saga-hops.ts';

const env = process.env;
const SEED = Number(env.BENCH_SEED ?? 2026);
const FANS = Number(env.BENCH_FANS ?? 1000);
/** The offered rate of the saturation phase: set it above what the saga can confirm. */
const OVERLOAD_RATE = Number(env.BENCH_OVERLOAD_RATE ?? 900);
const PHASE_SECONDS = Number(env.BENCH_PHASE_SECONDS ?? 15);
const FAILURE_RATE = Number(env.BENCH_FAILURE_RATE ?? 0.1);
/** Only the saturation phase, for profiling a change quickly (no curve, no pgbench). */
const SATURATION_ONLY = env.BENCH_SATURATION_ONLY === '1';
/** Bookings a second, far below the peak, at which what a booking costs is set against its saturated cost. */
const LOAD_FACTOR_RATES = [10, 30, 100] as const;
/**
 * Each paced phase's length: at 10 a second a 15 s phase cost payment-service about a third of a CPU second, less
 * than its idle work over the same time, which is taken out of it; its factor came out below the one at 30 a second.
 */
const LOAD_FACTOR_SECONDS = 40;
const SETTLE_TIMEOUT_MS = 180_000;
const SECTION = { rows: 100, seatsPerRow: 100 };
const DATABASES = ['ticket', 'payment', 'provider'] as const;
/**
 * How long the bench watches the stack doing nothing, to learn what each service costs idle. /proc counts CPU in
 * hundredths of a second and an idle service's work comes in bursts (a consumer's poll, a relay's pass), so 5 s gave
 * payment-service 0.034 cores in one run and 0.044 in the next. Idle is most of what the sizing check predicts for
 * scale-out's payment-service replicas, so that swing moved the prediction by a fifth.
 */
const IDLE_SECONDS = 20;
/**
 * account-service's default scrypt cost (PASSWORD_SCRYPT_LOG2N in its config.ts, OWASP's floor): what a fan's
 * sign-in costs in production, where the load runs' fans have cheap hashes (FAN_PASSWORD_LOG2N).
 */
const PRODUCTION_PASSWORD_LOG2N = 17;
/** The services whose databases the bench reads, each by the database name in its URL. */
const SERVICE_DATABASES = (t: Targets) =>
  ({
    'ticket-service': new URL(t.ticketDb).pathname.slice(1),
    'payment-service': new URL(t.paymentDb).pathname.slice(1),
    'payment-provider': new URL(t.providerDb).pathname.slice(1),
    'account-service': new URL(t.accountDb).pathname.slice(1),
  }) as const;
type DatabaseOwner = keyof ReturnType<typeof SERVICE_DATABASES>;

interface Arrival {
  dueAt: number;
  status: number;
  reservationId?: string;
}

interface Phase {
  label: string;
  offeredPerSecond: number;
  arrivals: number;
  booked: number;
  refused: Record<string, number>;
  confirmed: number;
  compensated: number;
  /** Confirmations per second while the backlog lasted (the middle 80% of them, edges left out). */
  confirmedPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  lateMsMax: number;
  /** Share of the offered window in which some task was runnable but waited for a core (PSI); null if unknown. */
  cpuWaitedShare: number | null;
  /** Where a confirmed booking's time went, leg by leg (saga-hops.ts). */
  hops: HopFigures;
}

interface Measured {
  phase: Phase;
  /** From the first snapshot to the last: the offered load, the saga settling, and a second after. */
  seconds: number;
  cpuSeconds: Map<string, number>;
  /** PostgreSQL sessions' CPU seconds by the database they served. */
  postgresCpuSeconds: Map<string, number>;
  statements: StatementCount[] | undefined;
  kafkaMessages: number;
  /** Messages written to each saga topic, and the topic's partitions. */
  kafkaTopics: Map<string, TopicEnds>;
  redisCommands: number;
  /** Write-ahead log written over the phase, every database of the server together. */
  walBytes: number;
}

interface TopicEnds {
  messages: number;
  partitions: number;
}

async function kafkaEndOffsets(brokers: string[]): Promise<Map<string, TopicEnds>> {
  const consumer = new Consumer({
    clientId: 'bench-saga',
    groupId: `bench-saga-${Date.now()}`,
    bootstrapBrokers: brokers,
    deserializers: stringDeserializers,
  });
  try {
    const offsets = await consumer.listOffsets({ topics: [...ALL_TOPICS] });
    const topics = new Map<string, TopicEnds>();
    for (const [topic, ends] of offsets)
      topics.set(topic, {
        messages: ends.reduce((n: number, end) => n + Number(end), 0),
        partitions: ends.length,
      });
    return topics;
  } finally {
    await consumer.close(true);
  }
}

const messagesIn = (topics: Map<string, TopicEnds>) =>
  [...topics.values()].reduce((n, t) => n + t.messages, 0);

/** Messages written to each topic between two readings of the end offsets. */
function topicsBetween(before: Map<string, TopicEnds>, after: Map<string, TopicEnds>) {
  return new Map(
    [...after].map(([topic, a]) => [
      topic,
      { messages: a.messages - (before.get(topic)?.messages ?? 0), partitions: a.partitions },
    ]),
  );
}

/** CPU seconds of one scrypt hash at cost 2^log2N (r = 8, p = 1, as account-service hashes), in this process. */
function passwordHashCpuSeconds(log2N: number, times: number): number {
  const N = 2 ** log2N;
  const start = process.cpuUsage();
  for (let i = 0; i < times; i++)
    scryptSync('lightstick-2026!', 'sixteen-byte-slt', 32, { N, r: 8, p: 1, maxmem: 256 * N * 8 + 2 ** 20 });
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6 / times;
}

/** The rate of the middle 80% of the confirmations: what the saga sustained while work was waiting for it. */
export function steadyRate(sortedTimes: readonly number[]): number {
  if (sortedTimes.length < 10) return 0;
  const lo = Math.floor(sortedTimes.length * 0.1);
  const hi = Math.ceil(sortedTimes.length * 0.9) - 1;
  const span = (sortedTimes[hi]! - sortedTimes[lo]!) / 1000;
  return span > 0 ? (hi - lo) / span : 0;
}

/** What each component costs while nothing is offered: its timers, relays, consumers' polls, metrics. */
async function measureIdle() {
  const before = cpuSnapshot();
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  const used = cpuBetween(before, cpuSnapshot());
  return {
    seconds: IDLE_SECONDS,
    components: Object.fromEntries(
      [...used].map(([component, seconds]) => [
        component,
        { cores: seconds / IDLE_SECONDS, processes: before.get(component)?.size ?? 0 },
      ]),
    ),
  };
}

/**
 * The fans signing in again over HTTP, as on the day: account-service's CPU and its database sessions' per sign-in,
 * and one password hash at the fans' cost and at production's, so the sign-in can be priced at production's cost.
 */
async function measureSignIn(stack: BenchStack, accountDatabase: string) {
  const cpu = cpuSnapshot();
  const postgres = postgresCpuByDatabase();
  const signedIn = (await stack.signInAgain()).length;
  const used = cpuBetween(cpu, cpuSnapshot());
  const postgresUsed = cpuBetween(postgres, postgresCpuByDatabase());
  return {
    signIns: signedIn,
    cpuSecondsPerSignIn: {
      'account-service': (used.get('account-service') ?? 0) / signedIn,
      postgres: (postgresUsed.get(accountDatabase) ?? 0) / signedIn,
    },
    passwordHash: {
      asMeasured: {
        log2N: FAN_PASSWORD_LOG2N,
        cpuSeconds: passwordHashCpuSeconds(FAN_PASSWORD_LOG2N, 200),
      },
      production: {
        log2N: PRODUCTION_PASSWORD_LOG2N,
        cpuSeconds: passwordHashCpuSeconds(PRODUCTION_PASSWORD_LOG2N, 3),
      },
    },
  };
}

/** Where a booking's cost goes: CPU per component, statements per database, messages and Redis commands. */
function printProfile(saturation: Measured) {
  const s = saturation.phase;
  const per = (n: number) => n / Math.max(1, s.booked);
  console.log(`\nper booking, over the saturation phase (${s.booked} bookings)`);
  const cpuTotal = [...saturation.cpuSeconds.values()].reduce((a, b) => a + b, 0);
  for (const [component, seconds] of [...saturation.cpuSeconds].sort((a, b) => b[1] - a[1]))
    console.log(
      `  CPU ${component.padEnd(17)} ${(per(seconds) * 1000).toFixed(2).padStart(7)} ms  (${((seconds / cpuTotal) * 100).toFixed(0)}%)`,
    );
  console.log(`  CPU, all                ${(per(cpuTotal) * 1000).toFixed(2).padStart(7)} ms`);
  for (const [database, seconds] of [...saturation.postgresCpuSeconds].sort((a, b) => b[1] - a[1]))
    console.log(
      `  CPU postgres, ${database.padEnd(10)} ${(per(seconds) * 1000).toFixed(2).padStart(7)} ms  (sessions serving that database)`,
    );
  if (saturation.statements === undefined)
    console.log('  PostgreSQL statements: pg_stat_statements is not loaded on this server');
  else {
    for (const db of DATABASES) {
      const mine = saturation.statements.filter((st) => st.database === db);
      console.log(
        `  PostgreSQL statements, ${db.padEnd(9)} ${per(mine.reduce((n, st) => n + st.calls, 0)).toFixed(1)}`,
      );
    }
    console.log('  most called:');
    console.log('    calls  exec ms  database statement');
    for (const st of saturation.statements.slice(0, 30))
      console.log(
        `    ${per(st.calls).toFixed(2).padStart(5)} ${per(st.execMs).toFixed(3).padStart(8)}  ${st.database.padEnd(8)} ${st.query.replace(/\s+/g, ' ').slice(0, 100)}`,
      );
  }
  console.log(`  Kafka messages            ${per(saturation.kafkaMessages).toFixed(2)}`);
  console.log(`  Redis commands            ${per(saturation.redisCommands).toFixed(2)}`);
  console.log(
    `  WAL bytes                 ${per(saturation.walBytes).toFixed(0)}  (every database of the server, full-page images included)`,
  );
}

/** Bytes of write-ahead log the server has written since it was made: the difference of two readings is a phase's. */
async function walWritten(db: pg.Pool): Promise<number> {
  const { rows } = await db.query<{ bytes: string }>(
    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS bytes",
  );
  return Number(rows[0]?.bytes ?? 0);
}

async function main() {
  const random = seededRandom(SEED);
  log(
    `seed ${SEED}; ${FANS} fans; saturation at ${OVERLOAD_RATE}/s offered, then 25/50/75/100% of the peak found, ${PHASE_SECONDS} s each, then ${LOAD_FACTOR_RATES.join('/')}/s, ${Math.max(PHASE_SECONDS, LOAD_FACTOR_SECONDS)} s each; gateway 5–20 ms, ${FAILURE_RATE * 100}% declined`,
  );
  const stack = await benchStack(FANS);
  const { targets, http, tokens } = stack;
  await setProviderFaults(targets, { failureRate: FAILURE_RATE, latencyMs: { min: 5, max: 20 } });
  const ticketDb = new pg.Pool({ connectionString: targets.ticketDb, max: 2 });
  const paymentDb = new pg.Pool({ connectionString: targets.paymentDb, max: 1 });
  const redis = new Redis(targets.ticketRedis);
  const serverDb = withDatabase(targets.ticketDb, 'postgres');
  const databases = SERVICE_DATABASES(targets);
  // Before any load, on a quiet stack: what each service costs idle, and what a sign-in costs.
  const idle = await measureIdle();
  const signIn = await measureSignIn(stack, databases['account-service']);
  log(
    `idle: ${Object.entries(idle.components)
      .map(([c, v]) => `${c} ${(v.cores * 100).toFixed(1)}%`)
      .join(
        ', ',
      )} of a core; a sign-in: account-service ${(signIn.cpuSecondsPerSignIn['account-service'] * 1000).toFixed(2)} ms, its database ${(signIn.cpuSecondsPerSignIn.postgres * 1000).toFixed(2)} ms of CPU; a password hash at 2^${signIn.passwordHash.production.log2N} ${(signIn.passwordHash.production.cpuSeconds * 1000).toFixed(0)} ms`,
  );
  const monitor = startSelfMonitor();
  let fanTurn = 0;

  async function measure(label: string, rate: number, seconds = PHASE_SECONDS): Promise<Measured> {
    const wanted = Math.ceil(rate * seconds);
    const sections = Array.from(
      { length: Math.ceil(wanted / (SECTION.rows * SECTION.seatsPerRow)) },
      (_, i) => ({ name: `S${i + 1}`, ...SECTION, price: 100000 }),
    );
    // Long enough that no hold ends while the saturation backlog drains: this measures throughput, not expiry.
    const eventId = await stack.createEvent(undefined, { holdSeconds: 600, maxSeatsPerUser: 20, sections });
    const map = await http.get<Array<{ id: string }>>(`${targets.ticket}/api/events/${eventId}/seats`);
    const seatIds = shuffle(
      map.body.map((s) => s.id),
      random,
    );
    const startedAt = performance.now();
    const before = {
      cpu: cpuSnapshot(),
      postgres: postgresCpuByDatabase(),
      statements: await statementSnapshot(serverDb, DATABASES),
      kafka: await kafkaEndOffsets(targets.kafkaBrokers),
      redis: await redisCommandsProcessed(redis),
      wal: await walWritten(ticketDb),
    };
    const arrivals: Arrival[] = [];
    log(`${label}: ${rate.toFixed(0)} bookings/s offered for ${seconds} s`);
    const waitedFrom = { us: cpuWaitedMicroseconds(), at: performance.now() };
    const { lateMsMax } = await openArrivals(rate, seconds, async (i, dueAt) => {
      // One fan books one seat at a time; each fan comes back every FANS arrivals, well under the seat limit.
      const token = tokens[fanTurn++ % tokens.length]!;
      const res = await http.post<{ id?: string }>(`${targets.ticket}/api/reservations`, {
        token,
        body: { eventId, seatIds: [seatIds[i]!] },
      });
      arrivals.push({
        dueAt,
        status: res.status,
        ...(res.status === 202 ? { reservationId: res.body.id } : {}),
      });
    });
    const waitedTo = cpuWaitedMicroseconds();
    const cpuWaitedShare =
      waitedFrom.us === undefined || waitedTo === undefined
        ? null
        : (waitedTo - waitedFrom.us) / 1000 / (performance.now() - waitedFrom.at);
    const settleStart = Date.now();
    for (;;) {
      const { rows } = await ticketDb.query<{ n: string }>(
        "SELECT count(*) AS n FROM reservations WHERE event_id = $1 AND status = 'PENDING'",
        [eventId],
      );
      if (Number(rows[0]?.n) === 0) break;
      if (Date.now() - settleStart > SETTLE_TIMEOUT_MS)
        throw new Error(
          `${rows[0]?.n} reservations still PENDING ${SETTLE_TIMEOUT_MS / 1000} s after the phase`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
    // The refunds and confirmation messages that follow the last settlement.
    await new Promise((r) => setTimeout(r, 1000));
    const after = {
      at: performance.now(),
      cpu: cpuSnapshot(),
      postgres: postgresCpuByDatabase(),
      statements: await statementSnapshot(serverDb, DATABASES),
      kafka: await kafkaEndOffsets(targets.kafkaBrokers),
      redis: await redisCommandsProcessed(redis),
      wal: await walWritten(ticketDb),
    };
    const { rows } = await ticketDb.query<{
      id: string;
      status: string;
      created: Date;
      confirmed: Date | null;
    }>(
      'SELECT id, status, created_at AS created, confirmed_at AS confirmed FROM reservations WHERE event_id = $1',
      [eventId],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    const payments = await paymentDb.query<{ reservation: string; opened: Date; captured: Date | null }>(
      'SELECT reservation_id AS reservation, created_at AS opened, captured_at AS captured FROM payments WHERE event_id = $1',
      [eventId],
    );
    const paymentOf = new Map(payments.rows.map((p) => [p.reservation, p]));
    const stamps: BookingStamps[] = [];
    const latencies: number[] = [];
    const confirmedTimes: number[] = [];
    const refused: Record<string, number> = {};
    let compensated = 0;
    for (const a of arrivals) {
      if (a.reservationId === undefined) {
        refused[a.status] = (refused[a.status] ?? 0) + 1;
        continue;
      }
      const r = byId.get(a.reservationId);
      if (r?.confirmed) {
        latencies.push(r.confirmed.getTime() - a.dueAt);
        confirmedTimes.push(r.confirmed.getTime());
        const p = paymentOf.get(r.id);
        if (p?.captured)
          stamps.push({
            dueAt: a.dueAt,
            reservedAt: r.created.getTime(),
            paymentOpenedAt: p.opened.getTime(),
            capturedAt: p.captured.getTime(),
            confirmedAt: r.confirmed.getTime(),
          });
      } else compensated++;
    }
    latencies.sort((a, b) => a - b);
    confirmedTimes.sort((a, b) => a - b);
    const booked = arrivals.filter((a) => a.reservationId !== undefined).length;
    const phase: Phase = {
      label,
      offeredPerSecond: rate,
      arrivals: arrivals.length,
      booked,
      refused,
      confirmed: latencies.length,
      compensated,
      confirmedPerSecond: steadyRate(confirmedTimes),
      latencyMs: {
        p50: Math.round(percentile(latencies, 50)),
        p95: Math.round(percentile(latencies, 95)),
        p99: Math.round(percentile(latencies, 99)),
        max: Math.round(latencies.at(-1) ?? 0),
      },
      lateMsMax,
      cpuWaitedShare,
      hops: hopFigures(stamps),
    };
    log(
      `${label}: ${booked} booked, ${phase.confirmed} confirmed, ${compensated} compensated, refused ${JSON.stringify(refused)}; ${phase.confirmedPerSecond.toFixed(1)} confirmed/s; reserve→confirmed p50 ${phase.latencyMs.p50} ms p99 ${phase.latencyMs.p99} ms`,
    );
    return {
      phase,
      seconds: (after.at - startedAt) / 1000,
      cpuSeconds: cpuBetween(before.cpu, after.cpu),
      postgresCpuSeconds: cpuBetween(before.postgres, after.postgres),
      statements:
        before.statements && after.statements
          ? statementsBetween(before.statements, after.statements)
          : undefined,
      kafkaMessages: messagesIn(after.kafka) - messagesIn(before.kafka),
      kafkaTopics: topicsBetween(before.kafka, after.kafka),
      redisCommands: after.redis - before.redis,
      walBytes: after.wal - before.wal,
    };
  }

  try {
    const saturation = await measure('saturation', OVERLOAD_RATE);
    const peak = saturation.phase.confirmedPerSecond;
    if (peak <= 0) throw new Error('no booking was confirmed at saturation: see the service logs');
    // The overload family (npm run overload) sizes its offered load from this figure.
    mkdirSync('reports', { recursive: true });
    writeFileSync(
      'reports/bench-saga-peak.json',
      `${JSON.stringify({ at: new Date().toISOString(), seed: SEED, offeredPerSecond: OVERLOAD_RATE, confirmedPerSecond: peak, failureRate: FAILURE_RATE }, null, 2)}\n`,
    );
    if (SATURATION_ONLY) {
      printProfile(saturation);
      return;
    }
    const curve: Phase[] = [];
    // The offered rate is in bookings; a share of them is declined, so the confirmed peak is scaled back up.
    const sagasAtPeak = peak / (1 - FAILURE_RATE);
    for (const share of [0.25, 0.5, 0.75, 1]) {
      curve.push((await measure(`${share * 100}% of peak`, sagasAtPeak * share)).phase);
    }
    const paced: Measured[] = [];
    for (const rate of LOAD_FACTOR_RATES)
      paced.push(await measure(`paced at ${rate}/s`, rate, Math.max(PHASE_SECONDS, LOAD_FACTOR_SECONDS)));
    const pgbench = await bookingPgbench(targets, PHASE_SECONDS);
    const tpcb = await pgbenchN(targets, PHASE_SECONDS);
    const self = monitor.stop();
    report(saturation, curve, loadFactors(saturation, paced), pgbench, tpcb, self);
  } finally {
    monitor.stop();
    redis.disconnect();
    await ticketDb.end();
    await paymentDb.end();
    await stack.stop();
  }

  /**
   * What a booking costs each saga service on a process far below saturation, as a multiple of its saturated cost:
   * each paced phase's CPU, net of the process's idle work over the phase, per booking made. Saturated, a consumer
   * takes many messages per fetch and a relay publishes many rows per pass; a replica of a sale spends most of it far
   * below that, each booking paying them alone (the sizing check prices scale-out's replicas with it).
   */
  function loadFactors(saturation: Measured, paced: readonly Measured[]) {
    const per = (m: Measured, service: string) =>
      Math.max(0, (m.cpuSeconds.get(service) ?? 0) - (idle.components[service]?.cores ?? 0) * m.seconds) /
      Math.max(1, m.phase.booked);
    return Object.fromEntries(
      (['ticket-service', 'payment-service', 'payment-provider'] as const).map((service) => [
        service,
        paced.map((m) => ({
          perSecond: m.phase.offeredPerSecond,
          factor: Math.max(1, per(m, service) / Math.max(per(saturation, service), Number.MIN_VALUE)),
        })),
      ]),
    );
  }

  function report(
    saturation: Measured,
    curve: Phase[],
    loadFactor: ReturnType<typeof loadFactors>,
    pgbench: Awaited<ReturnType<typeof bookingPgbench>>,
    tpcb: Awaited<ReturnType<typeof pgbenchN>>,
    self: ReturnType<typeof monitor.stop>,
  ) {
    const s = saturation.phase;
    const per = (n: number) => n / Math.max(1, s.booked);
    /** A figure by database, per booking, keyed by the service that owns the database. */
    const perBookingByService = (byDatabase: ReadonlyMap<string, number>) =>
      Object.fromEntries(
        (Object.entries(databases) as Array<[DatabaseOwner, string]>).map(([service, database]) => [
          service,
          per(byDatabase.get(database) ?? 0),
        ]),
      );
    const statementsByDatabase = new Map<string, number>();
    for (const st of saturation.statements ?? [])
      statementsByDatabase.set(st.database, (statementsByDatabase.get(st.database) ?? 0) + st.calls);
    console.log(`\nbench:saga — seed ${SEED}, ${new Date().toISOString()}`);
    console.log(
      `\nsaturation: ${s.offeredPerSecond}/s offered, ${s.booked} booked → ${s.confirmed} confirmed, ${s.compensated} compensated`,
    );
    console.log(`  confirmed bookings/s at saturation   ${s.confirmedPerSecond.toFixed(1)}`);
    console.log('\nreserve→confirmed, from the moment each booking was due (open model)');
    console.log(
      '  load          offered/s   confirmed/s      p50       p95       p99   CPU waited (some task runnable, no core free)',
    );
    for (const p of curve)
      console.log(
        `  ${p.label.padEnd(13)} ${p.offeredPerSecond.toFixed(0).padStart(9)} ${p.confirmedPerSecond.toFixed(1).padStart(13)} ${`${p.latencyMs.p50} ms`.padStart(9)} ${`${p.latencyMs.p95} ms`.padStart(9)} ${`${p.latencyMs.p99} ms`.padStart(9)}   ${p.cpuWaitedShare === null ? 'n/a (no /proc/pressure/cpu)' : `${(p.cpuWaitedShare * 100).toFixed(0)}% of the time`}`,
      );
    console.log(
      "\nwhere a confirmed booking's time went, leg by leg (p50 / p99 ms, from each service's own timestamps)",
    );
    console.log(`  load          ${HOPS.map((h) => h.padStart(15)).join('')}`);
    for (const p of curve)
      console.log(
        `  ${p.label.padEnd(13)} ${HOPS.map((h) => `${p.hops[h].p50} / ${p.hops[h].p99}`.padStart(15)).join('')}`,
      );
    console.log(
      '\nPostgreSQL alone: pgbench of one booking’s own writes (the three databases), same server, same run',
    );
    console.log(
      `  ${pgbench.bookingsPerSecond.toFixed(0)} bookings/s (${pgbench.clients} clients, ${pgbench.seconds} s); the saga reaches ${((s.confirmedPerSecond / (1 - FAILURE_RATE) / pgbench.bookingsPerSecond) * 100).toFixed(1)}% of it`,
    );
    const ofTpcb = s.confirmedPerSecond / tpcb.tps;
    console.log(
      `  pgbench -N (durable commits, scale ${tpcb.scale}, ${tpcb.clients} clients, ${tpcb.seconds} s): ${tpcb.tps.toFixed(0)} TPS; confirmed bookings/s are ${(ofTpcb * 100).toFixed(1)}% of it (issue 33's target: 8%)`,
    );
    printProfile(saturation);
    console.log(
      '\na booking below saturation, as a multiple of its saturated CPU (net of each process idle)',
    );
    for (const [service, points] of Object.entries(loadFactor))
      console.log(
        `  ${service.padEnd(18)} ${points.map((p) => `${p.perSecond}/s ×${p.factor.toFixed(2)}`).join(', ')}`,
      );
    console.log(
      `\nload generator: ${Math.round(self.cpuShareOfOneCore * 100)}% of a core (peak ${Math.round(self.peakCpuShareOfOneCore * 100)}%), event loop p99 ${self.eventLoopDelayMs.p99} ms${self.bottleneck ? ` — NOT PUBLISHABLE: ${self.bottleneck}` : ''}`,
    );
    const out = {
      seed: SEED,
      at: new Date().toISOString(),
      saturation: {
        ...s,
        cpuSecondsPerBooking: Object.fromEntries([...saturation.cpuSeconds].map(([k, v]) => [k, per(v)])),
        statementsPerBooking: saturation.statements
          ?.slice(0, 40)
          .map((st) => ({ ...st, calls: per(st.calls) })),
        kafkaMessagesPerBooking: per(saturation.kafkaMessages),
        redisCommandsPerBooking: per(saturation.redisCommands),
        walBytesPerBooking: per(saturation.walBytes),
        // What the sizing model (npm run sizing) reads: each service's database, and each topic.
        postgresCpuSecondsPerBooking: perBookingByService(saturation.postgresCpuSeconds),
        statementsPerBookingByService:
          saturation.statements === undefined ? null : perBookingByService(statementsByDatabase),
        kafkaTopics: Object.fromEntries(
          [...saturation.kafkaTopics].map(([topic, t]) => [
            topic,
            { messagesPerBooking: per(t.messages), partitions: t.partitions },
          ]),
        ),
      },
      idle,
      signIn,
      curve,
      loadFactor,
      pgbench,
      pgbenchN: { ...tpcb, confirmedShare: ofTpcb },
      loadGenerator: self,
      figuresPublishable: self.bottleneck === null,
    };
    mkdirSync('reports', { recursive: true });
    writeFileSync('reports/bench-saga.json', `${JSON.stringify(out, null, 2)}\n`);
    log('report in reports/bench-saga.json');
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`bench:saga failed: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
