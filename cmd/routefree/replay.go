package main

import (
	"context"
	"fmt"
	"io"

	"github.com/routefree/routefree/projections"
)

func init() {
	register("replay", "rebuild every projection from the first event and print the auditor's figures", cmdReplay)
}

func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("replay", stderr)
	if err := parse(fs, c, args); err != nil {
		return err
	}
	store, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer store.Close()
	prog := newProgress(stderr, "replayed")
	figs, err := projections.Replay(ctx, store, prog.tick)
	if err != nil {
		return err
	}
	prog.done(figs.Events)
	if err := figs.Write(stdout); err != nil {
		return err
	}
	if figs.Chain.Break != nil {
		return fmt.Errorf("hash chain broken at position %s", figs.Chain.Break.Position)
	}
	return nil
}
