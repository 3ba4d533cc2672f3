package main

import (
	"fmt"
	"strings"
	"testing"
)

// A data directory of years of PDFs made readable by others is named in
// one line of reasonable length: ten paths and a count of the rest.
func TestTightenedFilesAreListedBriefly(t *testing.T) {
	var paths []string
	for i := range 2500 {
		paths = append(paths, fmt.Sprintf("/data/documents/AB%08d.pdf", i))
	}
	got := listed(paths)
	if !strings.HasSuffix(got, " and 2490 more") || strings.Count(got, ".pdf") != 10 {
		t.Fatalf("listed 2,500 paths as %q", got)
	}
	if got := listed(paths[:3]); got != strings.Join(paths[:3], ", ") {
		t.Fatalf("three paths listed as %q", got)
	}
}
