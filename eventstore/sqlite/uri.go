package sqlite

import "strings"

// uriPath escapes a file path for a "file:" URI: SQLite ends the path at
// '?' or '#' and decodes %XX, and the driver splits its own parameters at
// the first '?', so a data directory named "a#b" would otherwise open "a".
var uriPath = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// URI is the driver's name for the database file at path with the given
// query parameters ("_pragma=…&…").
func URI(path, params string) string {
	u := "file:" + uriPath.Replace(path)
	if params != "" {
		u += "?" + params
	}
	return u
}
