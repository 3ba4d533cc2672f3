package migrations

import (
	"context"
	"fmt"

	"github.com/pressly/goose/v3"
)

// RefuseNewer refuses a database that a newer release migrated past the
// migrations p knows: goose leaves such a version alone, and a release
// rolled back to would read and write tables whose shape it does not know.
func RefuseNewer(ctx context.Context, p *goose.Provider) error {
	srcs := p.ListSources()
	if len(srcs) == 0 {
		return nil
	}
	known := srcs[len(srcs)-1].Version
	at, err := p.GetDBVersion(ctx)
	if err != nil {
		return err
	}
	if at > known {
		return fmt.Errorf("the database's schema is at version %d, past this release's last (%d): a newer release migrated it; run that release or a later one", at, known)
	}
	return nil
}
