// npm run outbox -- list <service> [--json] | replay <service> (--id N ... | --all) [--json]
// <service> is ticket-service or payment-service, the two with an outbox; its database is the one the scenario
// checker reads (TICKET_DATABASE_URL, PAYMENT_DATABASE_URL, or the local default).
import { parseArgs } from 'node:util';
import {
  type Pool,
  replaySetAside,
  type SetAsideMessage,
  setAsideMessages,
  withTransaction,
} from '@reservex/kit';
import { defaultTargets } from '@reservex/stack';
import pg from 'pg';

const USAGE = `usage: npm run outbox -- <list|replay> <service> [--id N]... [--all] [--json]
  <service>  ticket-service or payment-service (database from TICKET_DATABASE_URL / PAYMENT_DATABASE_URL)
  list       print the outbox messages set aside because Kafka can never accept them as they are (too large,
             malformed): row id, topic, key, message id, Kafka's answer, when
  replay     hand them back to the relay, which publishes them again in row order, ahead of anything newer
             still waiting; --id N (repeatable) for some, --all for every one. Mend the cause first (a topic's
             max.message.bytes), or they are set aside again. Later messages of the same key went out meanwhile;
             consumers drop a duplicate by message id
  --json     machine-readable output`;

const SERVICES = ['ticket-service', 'payment-service'] as const;
type Service = (typeof SERVICES)[number];

/** Bad input: the message (and, for a malformed command, the usage) goes to stderr, exit code 2, nothing changed. */
export class BadInput extends Error {
  readonly showUsage: boolean;
  constructor(message: string, showUsage = true) {
    super(message);
    this.showUsage = showUsage;
  }
}

export interface Command {
  action: 'list' | 'replay';
  service: Service;
  ids: number[] | 'all';
  json: boolean;
}

/** Reads the command line, or says what is wrong with it (BadInput); touches no database. */
export function parseCommand(argv: string[]): Command | 'help' {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new BadInput((error as Error).message);
  }
  const { positionals, values } = parsed;
  if (values.help) return 'help';
  const [action, service, ...extra] = positionals;
  if (action !== 'list' && action !== 'replay')
    throw new BadInput(action === undefined ? 'say list or replay' : `unknown command '${action}'`);
  if (service === undefined) throw new BadInput(`${action} which service? ${SERVICES.join(' or ')}`);
  if (!(SERVICES as readonly string[]).includes(service))
    throw new BadInput(
      `unknown service '${service}': ${SERVICES.join(' or ')} (the services with an outbox)`,
    );
  if (extra.length > 0) throw new BadInput(`unexpected '${extra.join(' ')}'`);
  const ids = (values.id ?? []).map((id) => {
    if (!/^[1-9][0-9]{0,14}$/.test(id))
      throw new BadInput(`--id takes an outbox row id (a positive integer), not '${id}'`);
    return Number(id);
  });
  if (action === 'list') {
    if (ids.length > 0 || values.all)
      throw new BadInput('list takes no --id or --all: it lists every row set aside');
    return { action, service: service as Service, ids: 'all', json: values.json === true };
  }
  if (ids.length > 0 && values.all) throw new BadInput('replay takes --id or --all, not both');
  if (ids.length === 0 && !values.all)
    throw new BadInput('replay which rows? --id N (repeatable; npm run outbox -- list shows them) or --all');
  return { action, service: service as Service, ids: values.all ? 'all' : ids, json: values.json === true };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      id: { type: 'string', multiple: true },
      all: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function databaseOf(service: Service): string {
  const targets = defaultTargets(process.env);
  return service === 'ticket-service' ? targets.ticketDb : targets.paymentDb;
}

function describe(m: SetAsideMessage): string {
  return `#${m.id}  ${m.topic}  key ${m.key}  message ${m.messageId}  set aside ${m.setAsideAt.toISOString()}\n    ${m.error}`;
}

/**
 * Hands back exactly the rows asked for, or none: an id that is not set aside (a typo, or already replayed and
 * published) rolls the whole replay back, so the operator never wonders which half went.
 */
async function replay(pool: Pool, ids: number[] | 'all'): Promise<number[]> {
  return withTransaction(pool, async (tx) => {
    const replayed = await replaySetAside(tx, ids === 'all' ? 'all' : { ids });
    const missing = ids === 'all' ? [] : ids.filter((id) => !replayed.includes(id));
    // Thrown inside the transaction: it rolls back, and nothing was handed back.
    if (missing.length > 0)
      throw new BadInput(
        `not set aside: ${missing.map((id) => `#${id}`).join(', ')} (npm run outbox -- list shows what is); nothing replayed`,
        false,
      );
    return replayed;
  });
}

async function main(argv: string[]): Promise<number> {
  const command = parseCommand(argv);
  if (command === 'help') {
    console.log(USAGE);
    return 0;
  }
  const pool = new pg.Pool({ connectionString: databaseOf(command.service), max: 1 });
  try {
    if (command.action === 'list') {
      const messages = await setAsideMessages(pool);
      if (command.json) console.log(JSON.stringify(messages, null, 2));
      else {
        for (const m of messages) console.log(describe(m));
        console.log(`${messages.length} message(s) set aside in ${command.service}'s outbox`);
      }
      return 0;
    }
    const replayed = await replay(pool, command.ids);
    if (command.json) console.log(JSON.stringify({ replayed }));
    else
      console.log(
        `handed ${replayed.length} message(s) back to ${command.service}'s relay${replayed.length > 0 ? `: ${replayed.map((id) => `#${id}`).join(', ')}` : ''}`,
      );
    return 0;
  } finally {
    await pool.end();
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      console.error(`outbox: ${error.message}`);
      if (error instanceof BadInput) {
        if (error.showUsage) console.error(USAGE);
        process.exit(2);
      }
      process.exit(1);
    },
  );
}
