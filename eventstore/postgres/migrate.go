package postgres

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/routefree/routefree/migrations"
)

// VersionTable is goose's version table for the event store's migrations. It
// is not goose's default so that other migration sets (read models) can keep
// their own versions in the same schema.
const VersionTable = "goose_eventstore_version"

// migrate applies migrations/postgres in the connection's schema. Instances
// starting together serialize on a session advisory lock of that schema.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	sub, err := fs.Sub(migrations.Postgres, "postgres")
	if err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(key("routefree/eventstore/migrations/"+schema)),
		lock.WithLockTimeout(1, 300),
	)
	if err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(pool) // closing it leaves the pool open
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub,
		goose.WithTableName(VersionTable),
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("postgres event store migrations: %w", err)
	}
	if err := migrations.RefuseNewer(ctx, p); err != nil {
		return fmt.Errorf("postgres event store migrations (%s): %w", VersionTable, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres event store migrations: %w", err)
	}
	return nil
}
