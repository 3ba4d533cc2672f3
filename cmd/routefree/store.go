package main

import (
	"context"
	"fmt"
	"os"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/kurrent"
	"github.com/routefree/routefree/eventstore/postgres"
	"github.com/routefree/routefree/eventstore/sqlite"
)

// openStore opens the configured event store.
func openStore(ctx context.Context, c *Config) (eventstore.Store, error) {
	switch c.Store {
	case "sqlite":
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return nil, err
		}
		return sqlite.Open(c.sqlitePath(), sqlite.Options{})
	case "postgres":
		return postgres.Open(ctx, c.PostgresURL, postgres.Options{})
	case "kurrentdb":
		return kurrent.Open(ctx, c.KurrentURL, kurrent.Options{})
	}
	return nil, fmt.Errorf("unknown store %q", c.Store)
}
