-- Docker mode: the official image runs this once, on an empty volume.
CREATE DATABASE account OWNER reservex;
CREATE DATABASE ticket OWNER reservex;
CREATE DATABASE payment OWNER reservex;
CREATE DATABASE provider OWNER reservex;
