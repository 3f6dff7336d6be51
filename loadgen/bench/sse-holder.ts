// A child process of bench:queue that opens many Server-Sent Events streams and keeps them open. A process can
// hold only as many sockets as its file-descriptor limit allows, so the bench spreads the crowd over several of
// these, each from its own loopback source address so that no one address runs out of ephemeral ports.
import { connect, type Socket } from 'node:net';

interface Job {
  host: string;
  port: number;
  localAddress: string;
  path: string;
  tokens: string[];
  count: number;
  concurrency: number;
}

const sockets: Socket[] = [];

async function openOne(job: Job, i: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: job.host, port: job.port, localAddress: job.localAddress });
    let settled = false;
    const done = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error === undefined) sockets.push(socket);
      else socket.destroy();
      resolve(error);
    };
    const timer = setTimeout(() => done('no first event within 15 s'), 15_000);
    socket.setNoDelay(true);
    socket.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    socket.on('connect', () => {
      socket.write(
        `GET ${job.path} HTTP/1.1\r\nHost: ${job.host}\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${job.tokens[i % job.tokens.length]}\r\n\r\n`,
      );
    });
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      if (settled) return;
      head += chunk.toString('latin1');
      if (!head.startsWith('HTTP/1.1 200')) {
        if (head.includes('\r\n')) done(`HTTP ${head.slice(9, 12)}`);
      } else if (head.includes('\ndata: ')) done();
    });
  });
}

process.on('message', async (job: Job) => {
  const failures = new Map<string, number>();
  let next = 0;
  let opened = 0;
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (next < job.count) {
        const i = next++;
        const error = await openOne(job, i);
        if (error === undefined) opened++;
        else {
          failures.set(error, (failures.get(error) ?? 0) + 1);
          // Once the server turns connections away, more attempts only add noise.
          if ((failures.get(error) ?? 0) > 50) next = job.count;
        }
      }
    }),
  );
  const alive = sockets.filter((s) => !s.destroyed).length;
  process.send?.({ opened, alive, failures: Object.fromEntries(failures) });
});

process.on('disconnect', () => {
  for (const s of sockets) s.destroy();
  process.exit(0);
});
