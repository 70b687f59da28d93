// Package schemas embeds the Avro schemas of every entity: the current writer schema
// (<entity>.avsc) and every earlier released version (history/*.avsc).
//
// The files are the contract between the producer and every sink: records on the
// entity topics are single-object encoded with the current schema, and readers resolve
// the writer schema of any record, old or new, by fingerprint from the set returned by All.
package schemas

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed *.avsc history released.txt
var files embed.FS

// Schema is one embedded schema file.
type Schema struct {
	// Entity is the entity name the file belongs to (the file name up to the first dot).
	Entity string
	// File is the path of the file inside the schemas directory.
	File string
	// Text is the schema JSON, unchanged.
	Text string
	// Current is true for <entity>.avsc, the version the producer writes today.
	Current bool
}

// Current returns the current writer schema of entity, or an error if there is no
// schemas/<entity>.avsc.
func Current(entity string) (string, error) {
	b, err := files.ReadFile(entity + ".avsc")
	if err != nil {
		return "", fmt.Errorf("schema for entity %q: %w", entity, err)
	}
	return string(b), nil
}

// All returns every embedded schema, current and historical, sorted by file name.
func All() []Schema {
	var out []Schema
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".avsc") {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		base := path.Base(p)
		out = append(out, Schema{
			Entity:  strings.SplitN(base, ".", 2)[0],
			File:    p,
			Text:    string(b),
			Current: !strings.Contains(p, "/"),
		})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out
}

// Released returns the lines of released.txt as entity → fingerprints (lower-case hex,
// 16 digits), the list of every schema version ever released.
func Released() map[string][]string {
	b, _ := files.ReadFile("released.txt")
	out := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) == 2 {
			out[f[0]] = append(out[f[0]], f[1])
		}
	}
	return out
}
