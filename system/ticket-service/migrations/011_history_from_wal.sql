-- The audit trail leaves the hot path: the harness reads every seat and reservation change, in commit order, from
-- PostgreSQL's write-ahead log through its own logical replication slot (loadgen/src/wal), created when a run
-- starts and dropped when it ends. The triggers doubled every seat and reservation write for the checker's sake,
-- a cost production paid; a production database now carries neither a trigger nor a slot.
DROP TRIGGER reservations_history_update ON reservations;
DROP TRIGGER reservations_history_insert ON reservations;
DROP TRIGGER seats_history ON seats;
DROP FUNCTION record_reservation_change();
DROP FUNCTION record_seat_change();
DROP TABLE reservation_history;
DROP TABLE seat_history;
