package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/kurrent"
	"github.com/routefree/routefree/eventstore/postgres"
	"github.com/routefree/routefree/eventstore/sqlite"
)

// openStore opens the configured event store, which must exist already: a
// command pointed at a mistyped or relative --data-dir would otherwise begin
// an empty history of its own and report on it, or write to it.
func openStore(ctx context.Context, c *Config) (eventstore.Store, error) {
	return openStoreFor(ctx, c, false)
}

// createStore opens the configured event store, making the embedded one
// when it is missing: for serve and events generate, which begin histories.
func createStore(ctx context.Context, c *Config) (eventstore.Store, error) {
	return openStoreFor(ctx, c, true)
}

func openStoreFor(ctx context.Context, c *Config, create bool) (eventstore.Store, error) {
	switch c.Store {
	case "sqlite":
		if create {
			if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
				return nil, err
			}
		} else if err := sqliteStoreExists(c.sqlitePath()); err != nil {
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

// sqliteStoreExists refuses a missing store file, naming where it looked.
func sqliteStoreExists(path string) error {
	_, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		if abs, aerr := filepath.Abs(path); aerr == nil {
			path = abs
		}
		return fmt.Errorf("no event store at %s (is --data-dir right? `serve` creates one)", path)
	}
	return err
}
