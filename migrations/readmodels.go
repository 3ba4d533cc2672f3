package migrations

import (
	"embed"
	"io/fs"
)

//go:embed readmodels/*.sql
var readModels embed.FS

// ReadModels holds the goose migrations of the SQL read models (usage and
// projection checkpoints), written in SQL that runs on SQLite and PostgreSQL.
// Apply them with their own goose version table (ReadModelsTable) so they
// never mix with the event store's migrations.
func ReadModels() fs.FS {
	sub, err := fs.Sub(readModels, "readmodels")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}

// ReadModelsTable is the goose version table of the read-model migrations.
const ReadModelsTable = "goose_readmodels_version"
