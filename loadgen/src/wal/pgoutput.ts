/**
 * PostgreSQL's logical replication protocol (pgoutput, protocol version 1), as
 * pg_logical_slot_get_binary_changes hands it out: one message per row, decoded into row changes stamped with
 * their transaction and its commit time. Only what the checker needs: Begin, Relation, Insert, Update, Delete
 * and Commit; values come as PostgreSQL's text output of each column.
 */

/** One row written by one transaction, in the order the transaction wrote it. */
export interface RowChange {
  table: string;
  /**
   * `gap` is no row change but a window the log could not see: the slot was lost with its server (a failover),
   * and the log goes on from a new slot on the new primary. `committedAt` is when the new slot began, `gapFrom`
   * the last commit read before it.
   */
  kind: 'insert' | 'update' | 'delete' | 'gap';
  gapFrom?: Date;
  /** The new row (insert, update), or the key of the deleted one. */
  row: Record<string, string | null>;
  xid: number;
  committedAt: Date;
}

interface Relation {
  table: string;
  columns: string[];
}

/** PostgreSQL's epoch, 2000-01-01, in Unix milliseconds. */
const PG_EPOCH_MS = 946_684_800_000;

class Reader {
  #at = 0;
  readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  byte(): number {
    return this.buf.readUInt8(this.#at++);
  }
  int16(): number {
    const v = this.buf.readInt16BE(this.#at);
    this.#at += 2;
    return v;
  }
  int32(): number {
    const v = this.buf.readInt32BE(this.#at);
    this.#at += 4;
    return v;
  }
  int64(): bigint {
    const v = this.buf.readBigInt64BE(this.#at);
    this.#at += 8;
    return v;
  }
  string(): string {
    const end = this.buf.indexOf(0, this.#at);
    const s = this.buf.toString('utf8', this.#at, end);
    this.#at = end + 1;
    return s;
  }
  bytes(n: number): string {
    const s = this.buf.toString('utf8', this.#at, this.#at + n);
    this.#at += n;
    return s;
  }
}

/**
 * Keeps the row changes of each transaction once. A slot read through the SQL functions saves its position only at
 * checkpoints, so after a crash of PostgreSQL it decodes again every transaction since the last one: those arrive
 * with a commit LSN at or below the last one kept, and are dropped.
 */
export class PgOutputDecoder {
  readonly #relations = new Map<number, Relation>();
  #xid = 0;
  #committedAt = new Date(0);
  #lastCommit = -1n;
  #replaying = false;
  /** Transactions PostgreSQL decoded a second time, and which were dropped. */
  replayedTransactions = 0;

  /** Decodes one message; returns the row change it carries, if it carries one. */
  decode(message: Buffer): RowChange | undefined {
    const r = new Reader(message);
    const tag = String.fromCharCode(r.byte());
    switch (tag) {
      case 'B': {
        const commitLsn = r.int64();
        this.#replaying = commitLsn <= this.#lastCommit;
        if (this.#replaying) this.replayedTransactions++;
        this.#committedAt = new Date(PG_EPOCH_MS + Number(r.int64() / 1000n));
        this.#xid = r.int32();
        return undefined;
      }
      case 'R': {
        const oid = r.int32();
        r.string(); // namespace
        const table = r.string();
        r.byte(); // replica identity
        const n = r.int16();
        const columns: string[] = [];
        for (let i = 0; i < n; i++) {
          r.byte(); // flags
          columns.push(r.string());
          r.int32(); // type
          r.int32(); // type modifier
        }
        this.#relations.set(oid, { table, columns });
        return undefined;
      }
      case 'C': {
        r.byte(); // flags
        const commitLsn = r.int64();
        if (!this.#replaying) this.#lastCommit = commitLsn;
        return undefined;
      }
      case 'I':
      case 'U':
      case 'D': {
        if (this.#replaying) return undefined;
        const relation = this.#relation(r.int32());
        let marker = String.fromCharCode(r.byte());
        let row = this.#tuple(r, relation);
        if (tag === 'U' && (marker === 'K' || marker === 'O')) {
          marker = String.fromCharCode(r.byte());
          row = this.#tuple(r, relation);
        }
        const kind = tag === 'I' ? 'insert' : tag === 'U' ? 'update' : 'delete';
        return { table: relation.table, kind, row, xid: this.#xid, committedAt: this.#committedAt };
      }
      default:
        // Origin, Type, Truncate, Message: nothing the checker reads.
        return undefined;
    }
  }

  #relation(oid: number): Relation {
    const relation = this.#relations.get(oid);
    if (relation === undefined)
      throw new Error(`pgoutput: a change for relation ${oid} before its description`);
    return relation;
  }

  #tuple(r: Reader, relation: Relation): Record<string, string | null> {
    const n = r.int16();
    const row: Record<string, string | null> = {};
    for (let i = 0; i < n; i++) {
      const kind = String.fromCharCode(r.byte());
      const name = relation.columns[i] ?? `column${i}`;
      if (kind === 't') row[name] = r.bytes(r.int32());
      else if (kind === 'n') row[name] = null;
      // 'u': an unchanged TOASTed value, not sent; left out.
    }
    return row;
  }
}
