package bigquerysink

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

var update = flag.Bool("update", false, "rewrite the golden SQL files in testdata")

// TestGoldenSQL keeps the exact SQL the sink sends as golden files, so every change to
// it is reviewed. The same SQL runs, translated, on the fake's DuckDB in the other tests.
func TestGoldenSQL(t *testing.T) {
	tickets, _ := catalog.Lookup("tickets")
	customers, _ := catalog.Lookup("customers")
	s := &Sink{cfg: Config{Dataset: "gorgias"}, dest: Destination{Project: "test-project"}}
	hard := &Sink{cfg: Config{Dataset: "gorgias", Deletes: sink.HardDelete}, dest: s.dest}
	cols := []string{"id", "subject", "updated_datetime", ColPartition, ColOffset, ColTimestamp, ColDeletedAt, ColDeletedReason, ColMergedInto}
	// withDeletes is a batch of tickets whose staged rows hold deletions, and versions
	// when versions is set.
	withDeletes := func(versions bool) []entityCommit {
		return []entityCommit{{
			entity: tickets, staging: stagingTable(tickets, "0a1b2c3d4e5f_8"), columns: cols,
			idLo: 1001, idHi: 1999, versions: versions, deletions: true,
			ranges: []sink.Range{{TopicPartition: sink.TopicPartition{Topic: "gorgias.tickets", Partition: 0}, First: 250, Next: 260}},
		}}
	}
	cases := []struct {
		file string
		sql  string
	}{
		{"commit.sql", s.commitScript("0a1b2c3d4e5f_7", []entityCommit{
			{
				entity:  tickets,
				staging: stagingTable(tickets, "0a1b2c3d4e5f_7"),
				columns: cols,
				idLo:    1001, idHi: 1999, versions: true,
				ranges: []sink.Range{
					{TopicPartition: sink.TopicPartition{Topic: "gorgias.tickets", Partition: 1}, First: sink.NoOffset, Next: 40},
					{TopicPartition: sink.TopicPartition{Topic: "gorgias.tickets", Partition: 0}, First: 100, Next: 250},
				},
			},
			{ // only markers or dead letters: the offsets advance, no rows
				entity: customers,
				ranges: []sink.Range{{TopicPartition: sink.TopicPartition{Topic: "gorgias.customers", Partition: 2}, First: 7, Next: 9}},
			},
		})},
		{"commit_soft_deletes.sql", s.commitScript("0a1b2c3d4e5f_8", withDeletes(true))},
		{"commit_hard_deletes_only.sql", hard.commitScript("0a1b2c3d4e5f_8", withDeletes(false))},
		{"reset.sql", s.resetScript([]catalog.Entity{tickets}, map[catalog.Entity][]sink.Range{
			tickets: {{TopicPartition: sink.TopicPartition{Topic: "gorgias.tickets", Partition: 0}, Next: 12}},
		})},
		{"offsets.sql", s.offsetsQuery([]catalog.Entity{customers, tickets}) + "\n"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join("testdata", c.file)
			if *update {
				if err := os.WriteFile(path, []byte(c.sql), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGoldenSQL -update to create it)", err)
			}
			if string(want) != c.sql {
				t.Fatalf("SQL differs from %s (rerun with -update after review):\n--- got\n%s\n--- want\n%s", path, c.sql, want)
			}
		})
	}
}
