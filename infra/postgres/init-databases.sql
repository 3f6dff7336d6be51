-- Docker mode: the official image runs this once, on an empty volume.
CREATE DATABASE account OWNER reservex;
CREATE DATABASE ticket OWNER reservex;
CREATE DATABASE payment OWNER reservex;
CREATE DATABASE provider OWNER reservex;
-- bench:saga reads statement counts per booking from here.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
GRANT pg_read_all_stats TO reservex;
