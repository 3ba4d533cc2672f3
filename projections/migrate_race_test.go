package projections

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	"github.com/routefree/routefree/internal/testenv"
)

// Instances started together on a new PostgreSQL schema each migrate the
// read models: they take turns, and every one of them gets a usable model.
func TestReadModelMigrationsOfInstancesStartedTogether(t *testing.T) {
	for round := range 6 {
		url := testenv.PostgresURL(t)
		const n = 6
		dbs := make([]*sql.DB, n)
		for i := range n {
			db, err := sql.Open("pgx", url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Ping(); err != nil {
				t.Fatal(err)
			}
			dbs[i] = db
		}
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = NewUsage(context.Background(), dbs[i], Postgres)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, instance %d: %v", round, i, err)
			}
		}
	}
}
