// npm run bench:http — the hot read endpoints under autocannon, each as a ratio to a bare node:http server that
// answers the same bytes on the same machine in the same run: the floor no Express route can beat.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { benchStack, log } from './bench-stack.ts';
import { type CannonResult, cannon, cannonRow } from './cannon.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

async function bareServer(body: string) {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

async function main() {
  const stack = await benchStack(500);
  const { targets, tokens } = stack;
  try {
    const eventId = await stack.createEvent(undefined);
    const seatMap = await fetch(`${targets.ticket}/api/events/${eventId}/seats`);
    const etag = seatMap.headers.get('etag') ?? '';
    const seatBody = await seatMap.text();
    const eventBody = await (await fetch(`${targets.ticket}/api/events/${eventId}`)).text();

    const rows: { result: CannonResult; floor: CannonResult }[] = [];
    const measure = async (o: Omit<Parameters<typeof cannon>[0], 'connections'>, floorBody: string) => {
      const bare = await bareServer(floorBody);
      const floor = await cannon({
        label: `  bare node:http, ${floorBody.length} B`,
        url: bare.url,
        path: () => '/',
        connections: CONNECTIONS,
        seconds: SECONDS,
      });
      bare.close();
      const result = await cannon({ ...o, connections: CONNECTIONS, seconds: SECONDS });
      rows.push({ result, floor });
      console.log(cannonRow(result));
      console.log(
        `${cannonRow(floor)}  → ratio ${(result.requestsPerSecond / floor.requestsPerSecond).toFixed(2)}`,
      );
    };

    console.log(`\nautocannon, ${CONNECTIONS} connections, ${SECONDS} s each\n`);
    await measure(
      { label: 'GET /api/events/:id', url: targets.ticket, path: () => `/api/events/${eventId}` },
      eventBody,
    );
    await measure(
      {
        label: 'GET /api/events/:id/seats (1,000)',
        url: targets.ticket,
        path: () => `/api/events/${eventId}/seats`,
      },
      seatBody,
    );
    await measure(
      {
        label: 'GET …/seats, If-None-Match → 304',
        url: targets.ticket,
        path: () => `/api/events/${eventId}/seats`,
        headers: { 'if-none-match': etag },
      },
      '',
    );
    await measure(
      { label: 'GET /api/users/me (account)', url: targets.account, path: () => '/api/users/me', tokens },
      '{"id":"00000000-0000-0000-0000-000000000000","email":"fan@fans.example","name":"A Fan","roles":["user"]}',
    );
    await measure(
      { label: 'GET /actuator/health (ticket)', url: targets.ticket, path: () => '/actuator/health' },
      '{"status":"UP"}',
    );
    mkdirSync('reports', { recursive: true });
    writeFileSync('reports/bench-http.json', `${JSON.stringify(rows, null, 2)}\n`);
    log('report in reports/bench-http.json');
  } finally {
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`bench:http failed: ${error.message}`);
    process.exit(1);
  },
);
