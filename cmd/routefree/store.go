package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/kurrent"
	"github.com/routefree/routefree/eventstore/postgres"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/internal/inherit"
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
	c.makeDataPrivate()
	switch c.Store {
	case "sqlite":
		if create {
			if err := inherit.MkdirAll(c.DataDir, 0o700); err != nil {
				return nil, err
			}
		} else if err := sqliteStoreExists(c.sqlitePath()); err != nil {
			return nil, err
		}
		return sqlite.Open(c.sqlitePath(), sqlite.Options{})
	case "postgres":
		if !create {
			if err := postgresStoreExists(ctx, c.PostgresURL); err != nil {
				return nil, err
			}
		}
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

// postgresStoreExists refuses a schema that holds no event store (the
// search_path left out, so public, or naming another schema), naming it.
// What it cannot tell (PostgreSQL unreachable, no schema of the
// search_path) the store's own open reports.
func postgresStoreExists(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil
	}
	defer conn.Close(ctx)
	var schema *string
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT current_schema(), to_regclass($1) IS NOT NULL", postgres.VersionTable).Scan(&schema, &exists); err != nil || schema == nil {
		return nil
	}
	if !exists {
		return fmt.Errorf("no event store in PostgreSQL schema %s (is the search_path of --postgres-url right? `serve` creates one)", *schema)
	}
	return nil
}

// warnUnusedStoreURL warns of a new SQLite store begun while a PostgreSQL
// or KurrentDB URL is set: most likely ROUTEFREE_STORE was forgotten, and
// this serve would keep a history of its own beside the shared one.
func (c *Config) warnUnusedStoreURL(log *slog.Logger) {
	if c.Store != "sqlite" {
		return
	}
	if _, err := os.Stat(c.sqlitePath()); !errors.Is(err, fs.ErrNotExist) {
		return
	}
	for _, u := range []struct{ set, store string }{{c.PostgresURL, "postgres"}, {c.KurrentURL, "kurrentdb"}} {
		if u.set != "" {
			dir, _ := filepath.Abs(c.DataDir)
			log.Warn("a "+u.store+" URL is set, but the store is sqlite: this serve begins a new SQLite store, a history of its own; "+
				"to use the URL, serve with --store "+u.store+" (ROUTEFREE_STORE="+u.store+")", "data_dir", dir)
		}
	}
}
