// Package migrations holds the SQL schemas, embedded in the binary and
// applied at start-up with goose. Each subfolder is one independent set of
// migrations with its own goose version table.
package migrations

import "embed"

// Postgres is the PostgreSQL event store's schema (folder postgres/).
//
//go:embed postgres/*.sql
var Postgres embed.FS
