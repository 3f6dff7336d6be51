import { type AdmissionProgress, type QueueProgress, queueView } from '../domain/queue-view.ts';
import type { QueueStatus, WaitingRoom } from './waiting-room.ts';

/** Where one open stream stands. */
type StreamTurn =
  /** Joined before the opening: the ticket comes with the shuffle. */
  | { kind: 'pre-queue' }
  /** The queue opened: this fan's ticket is being read, once. */
  | { kind: 'looking-up' }
  | { kind: 'waiting'; ticket: number }
  /** The turn came and its answer (admitted, or expired) was sent. */
  | { kind: 'told' };

/** Where a stream's updates go: the HTTP layer turns them into Server-Sent Events. */
export interface QueueUpdateSink {
  send(event: 'position' | 'admitted' | 'expired', data: unknown): void;
  close(): void;
}

interface Stream {
  userId: string;
  turn: StreamTurn;
  sink: QueueUpdateSink;
}

/**
 * Pushes each fan's place to their open stream. Every admission tick's serving counter is written to all streams
 * of that event: one number per tick, no Redis call per fan, until a fan's own turn comes and their admission
 * token is fetched once.
 */
export class QueueUpdates {
  readonly #room: Pick<WaitingRoom, 'ticketOf' | 'statusOf'>;
  readonly #ticker: AdmissionProgress;
  readonly #streams = new Map<string, Set<Stream>>();

  constructor(room: Pick<WaitingRoom, 'ticketOf' | 'statusOf'>, ticker: AdmissionProgress) {
    this.#room = room;
    this.#ticker = ticker;
    ticker.onProgress((eventId, progress) => this.#tick(eventId, progress));
  }

  /** Streams the fan's place from `first` on; returns the function that ends the subscription. */
  subscribe(eventId: string, userId: string, first: QueueStatus, sink: QueueUpdateSink): () => void {
    const served = this.#ticker.progress(eventId)?.served ?? 0;
    const turn: StreamTurn =
      first.state !== 'waiting'
        ? { kind: 'told' }
        : first.position === null
          ? { kind: 'pre-queue' }
          : { kind: 'waiting', ticket: served + first.position };
    const stream: Stream = { userId, turn, sink };
    let open = this.#streams.get(eventId);
    if (open === undefined) {
      open = new Set();
      this.#streams.set(eventId, open);
    }
    open.add(stream);
    return () => {
      open.delete(stream);
      if (open.size === 0 && this.#streams.get(eventId) === open) this.#streams.delete(eventId);
    };
  }

  /** Ends every open stream, as shutdown begins: fans' browsers reconnect (retry: 3000) to another instance. */
  closeAll(): void {
    for (const open of this.#streams.values()) for (const stream of open) stream.sink.close();
    this.#streams.clear();
  }

  #tick(eventId: string, progress: QueueProgress): void {
    const open = this.#streams.get(eventId);
    if (open === undefined) return;
    for (const stream of open) {
      // An open stream is a sign of life.
      this.#ticker.seen(eventId, stream.userId);
      const turn = stream.turn;
      if (turn.kind === 'pre-queue' && progress.lastTicket > 0) this.#lookUpTicket(eventId, stream);
      else if (turn.kind === 'waiting' && turn.ticket <= progress.served) this.#tellTurn(eventId, stream);
      else if (turn.kind === 'waiting')
        stream.sink.send('position', {
          ...queueView(turn.ticket, progress.served, false, progress.rate),
          paused: progress.paused === true,
        });
    }
  }

  #lookUpTicket(eventId: string, stream: Stream): void {
    stream.turn = { kind: 'looking-up' };
    this.#room.ticketOf(eventId, stream.userId).then(
      (ticket) => {
        stream.turn =
          ticket !== undefined && ticket > 0 ? { kind: 'waiting', ticket } : { kind: 'pre-queue' };
      },
      () => stream.sink.close(),
    );
  }

  /** The turn has come: this fan's one Redis lookup, for their token. */
  #tellTurn(eventId: string, stream: Stream): void {
    stream.turn = { kind: 'told' };
    this.#room.statusOf(stream.userId, eventId).then(
      (status) => stream.sink.send(status?.state === 'admitted' ? 'admitted' : 'expired', status ?? {}),
      () => stream.sink.close(),
    );
  }
}
