import { type AdmissionProgress, type QueueProgress, queueView } from '../domain/queue-view.ts';
import type { FanStatus, WaitingRoom } from './waiting-room.ts';

/** Where one open stream stands. */
type StreamTurn =
  | { kind: 'waiting' }
  /** The turn came and its answer (admitted, or expired) was sent. */
  | { kind: 'told' };

/** Where a stream's updates go: the HTTP layer turns them into Server-Sent Events. */
export interface QueueUpdateSink {
  send(event: 'position' | 'admitted' | 'expired', data: unknown): void;
  close(): void;
}

interface Stream {
  userId: string;
  /** The fan's join number, from their signed ticket. */
  number: number;
  turn: StreamTurn;
  sink: QueueUpdateSink;
}

/**
 * Pushes each fan's place to their open stream: a fan near the front (the front window) keeps one open instead of
 * polling. Every admission tick's serving counter is written to all streams of that event, each place worked out
 * from the fan's join number and the pre-queue's lottery: no Redis call per fan, until a fan's own turn comes and
 * their admission token is fetched once. An open stream is a sign of life.
 */
export class QueueUpdates {
  readonly #room: Pick<WaitingRoom, 'fanStatus'>;
  readonly #ticker: AdmissionProgress;
  readonly #streams = new Map<string, Set<Stream>>();

  constructor(room: Pick<WaitingRoom, 'fanStatus'>, ticker: AdmissionProgress) {
    this.#room = room;
    this.#ticker = ticker;
    ticker.onProgress((eventId, progress) => this.#tick(eventId, progress));
  }

  /** Streams the fan's place from `first` on; returns the function that ends the subscription. */
  subscribe(
    eventId: string,
    userId: string,
    number: number,
    first: FanStatus,
    sink: QueueUpdateSink,
  ): () => void {
    const stream: Stream = {
      userId,
      number,
      turn: first.state === 'waiting' ? { kind: 'waiting' } : { kind: 'told' },
      sink,
    };
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
      this.#ticker.seen(eventId, stream.number, stream.userId);
      if (stream.turn.kind !== 'waiting') continue;
      const place = progress.order?.placeOf(stream.number);
      if (place === undefined) continue; // the pre-queue, until the opening
      if (place <= progress.served) this.#tellTurn(eventId, stream);
      else
        stream.sink.send('position', {
          ...queueView(place, progress.served, false, progress.rate),
          place,
          paused: progress.paused === true,
        });
    }
  }

  /** The turn has come: this fan's one Redis lookup, for their token. */
  #tellTurn(eventId: string, stream: Stream): void {
    stream.turn = { kind: 'told' };
    this.#room.fanStatus(stream.userId, eventId, stream.number).then(
      (status) => stream.sink.send(status.state === 'admitted' ? 'admitted' : 'expired', status),
      () => stream.sink.close(),
    );
  }
}
