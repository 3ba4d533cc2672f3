package sqlite

// schema is the whole database: the events table, whose INTEGER PRIMARY KEY
// (the rowid) is the global position. Event bodies are BLOBs so their bytes come
// back exactly as appended; occurred_at is Unix nanoseconds (UTC instant).
// UNIQUE(stream, version) doubles as the index for stream reads and heads.
// write_check holds one row that Store.CheckWrite rewrites: no event.
const schema = `
CREATE TABLE IF NOT EXISTS events (
	position       INTEGER PRIMARY KEY,
	event_id       BLOB    NOT NULL UNIQUE,
	stream         TEXT    NOT NULL,
	version        INTEGER NOT NULL,
	type           TEXT    NOT NULL,
	schema_version INTEGER NOT NULL,
	occurred_at    INTEGER NOT NULL,
	data           BLOB    NOT NULL,
	prev_hash      BLOB    NOT NULL,
	hash           BLOB    NOT NULL,
	UNIQUE (stream, version)
);
CREATE TABLE IF NOT EXISTS write_check (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	checked_at INTEGER NOT NULL
);`

const eventColumns = `position, event_id, stream, version, type, schema_version, occurred_at, data, prev_hash, hash`

// columnCount is the number of values one inserted row binds.
const columnCount = 10
