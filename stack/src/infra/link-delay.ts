#!/usr/bin/env node
// node stack/src/infra/link-delay.ts <listen-port> <target-port> <delay-ms>
// A TCP link between two PostgreSQL nodes that takes as long as one between machines: every chunk is passed on
// `delay-ms` after it arrived, in each direction, in order (timers of one duration fire in the order they were set).
// Replication goes through it (each node's Patroni connect_address), clients do not (HAProxy reaches the nodes
// directly), so it lengthens exactly what separates a standby from its primary.
import { createConnection, createServer, type Socket } from 'node:net';

function relay(from: Socket, to: Socket, delayMs: number) {
  from.on('data', (chunk) => {
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, delayMs);
  });
  from.on('end', () => setTimeout(() => to.end(), delayMs));
  from.on('close', (hadError) => {
    if (hadError) setTimeout(() => to.destroy(), delayMs);
  });
  from.on('error', () => {});
}

function main(argv: string[]): void {
  const [listen, target, delay] = argv.map(Number);
  if (![listen, target, delay].every((n) => Number.isInteger(n) && n! >= 0)) {
    console.error('usage: link-delay.ts <listen-port> <target-port> <delay-ms>');
    process.exit(2);
  }
  createServer((client) => {
    const server = createConnection({ host: '127.0.0.1', port: target! });
    relay(client, server, delay!);
    relay(server, client, delay!);
  }).listen(listen, '127.0.0.1');
}

main(process.argv.slice(2));
