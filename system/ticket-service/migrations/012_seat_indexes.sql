-- seats_event_idx repeated seats_position_key column for column, and no plan used it (pg_stat_user_indexes: no
-- scan). A seat's hold and its sale are never HOT updates (reservation_id and changed_seq are indexed), so each wrote
-- into every index of the table: one fewer per seat change, two per booking.
DROP INDEX seats_event_idx;
