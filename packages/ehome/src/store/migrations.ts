/**
 * Versioned schema migrations, one SQL dialect for both backends (PGlite is PostgreSQL compiled to WASM). A
 * migration is never edited once released: a change is a new entry. Applied in order inside one transaction each,
 * under an advisory lock so two platform processes starting together on one PostgreSQL do not race.
 */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'sessions, events, media, commands, nodes',
    sql: `
create table nodes (
  node_id text primary key,
  api_url text,
  started_at bigint not null,
  seen_at bigint not null
);
create table sessions (
  device_id text primary key,
  node_id text not null,
  online boolean not null,
  registered_at bigint not null,
  last_seen bigint not null,
  session jsonb not null
);
create index sessions_node on sessions (node_id);
create table events (
  id bigserial primary key,
  at bigint not null,
  type text not null,
  device_id text,
  dedupe text unique,
  body jsonb not null
);
create index events_device_at on events (device_id, at, id);
create index events_type_at on events (type, at, id);
create index events_at on events (at);
create table media (
  id bigserial primary key,
  node_id text not null,
  device_id text not null,
  kind text not null,
  media_id text not null,
  path text not null,
  size bigint not null,
  channel integer,
  received_at bigint not null
);
create index media_node_received on media (node_id, received_at);
create index media_received on media (received_at);
create table commands (
  id bigserial primary key,
  at bigint not null,
  node_id text not null,
  device_id text not null,
  command text not null,
  status integer,
  duration_ms integer not null,
  error text
);
create index commands_device_at on commands (device_id, at);
create index commands_at on commands (at);
`,
  },
  {
    version: 2,
    name: 'media by device and PicID/VideoId (alarms and uploads linked in the transaction of the second)',
    sql: `
create index media_device_media on media (device_id, media_id);
`,
  },
];

/** Advisory lock key of the migration transaction ("cam-ehome" as a number). */
export const MIGRATION_LOCK = 0x63616d65;
