package bigquerysink

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// staleMarker starts the message of every fencing ASSERT; a commit job that fails with
// it was refused because a range did not continue the stored offsets.
const staleMarker = "gorgias-kafka stale offset"

// entityCommit is the part of one batch's commit script that concerns one entity.
type entityCommit struct {
	entity catalog.Entity
	// staging is the batch's staging table of the entity, or "" when the batch has no
	// rows of it (its ranges only advance offsets).
	staging string
	// columns of the entity table (entity fields, Kafka columns, deletion columns, then
	// columns added later), all present in staging too.
	columns []string
	ranges  []sink.Range
	// idLo and idHi bound the ids of the batch's rows: a constant filter that lets
	// BigQuery prune the entity table's blocks (it is clustered on id) in the MERGE.
	idLo, idHi int64
	// versions and deletions say whether the staged rows hold versions and deletions:
	// the steps of a kind the batch lacks are left out.
	versions, deletions bool
}

// tableRef renders a table as a backquoted GoogleSQL path.
func (s *Sink) tableRef(name string) string {
	return "`" + s.dest.Project + "." + s.cfg.Dataset + "." + name + "`"
}

// offsetsTable names the offsets table of one entity. Each entity has its own, so
// consumers writing different entities never conflict on one table.
func offsetsTable(e catalog.Entity) string { return "_kafka_offsets__" + e.Name }

// stagingTable names the staging table of one entity for one batch.
func stagingTable(e catalog.Entity, batchID string) string { return "_stg_" + e.Name + "_" + batchID }

// quoteString renders a GoogleSQL string literal.
func quoteString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}

// quoteIdent backquotes a column name.
func quoteIdent(s string) string { return "`" + s + "`" }

// commitScript renders the multi-statement transaction that stores one batch: it
// fences on the stored offsets, appends the staged rows (versions and deletions) to the
// changelog, merges the newest version of each id into the entity table (an older or
// equal version never replaces a stored one, nor does one not newer than the id's
// latest deletion; writeVersionMerge), applies the deletions (writeDeletionSteps), and
// advances the offsets — all or nothing.
func (s *Sink) commitScript(batchID string, parts []entityCommit) string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- gorgias-kafka batch %s\nBEGIN TRANSACTION;\n", batchID)
	for _, p := range parts {
		off := s.tableRef(offsetsTable(p.entity))
		for _, r := range sortedRanges(p.ranges) {
			where := fmt.Sprintf("topic = %s AND `partition` = %d", quoteString(r.Topic), r.Partition)
			if r.First == sink.NoOffset {
				fmt.Fprintf(&b, "ASSERT NOT EXISTS (SELECT 1 FROM %s WHERE %s) AS %s;\n", off, where,
					quoteString(fmt.Sprintf("%s: %s[%d] already has a stored offset", staleMarker, r.Topic, r.Partition)))
			} else {
				fmt.Fprintf(&b, "ASSERT (SELECT COUNT(*) FROM %s WHERE %s AND next_offset = %d) = 1 AS %s;\n", off, where, r.First,
					quoteString(fmt.Sprintf("%s: %s[%d] does not continue at %d", staleMarker, r.Topic, r.Partition, r.First)))
			}
		}
	}
	for _, p := range parts {
		if p.staging == "" {
			continue
		}
		stg := s.tableRef(p.staging)
		cols := make([]string, len(p.columns))
		for i, c := range p.columns {
			cols[i] = quoteIdent(c)
		}
		list := strings.Join(cols, ", ")
		fmt.Fprintf(&b, "INSERT INTO %s (%s)\nSELECT %s FROM %s;\n", s.tableRef(p.entity.ChangelogTable()), list, list, stg)
		if p.versions {
			s.writeVersionMerge(&b, p, stg, cols, list)
		}
		if p.deletions {
			s.writeDeletionSteps(&b, p, stg)
		}
	}
	for _, p := range parts {
		if len(p.ranges) == 0 {
			continue
		}
		var rows []string
		for _, r := range sortedRanges(p.ranges) {
			rows = append(rows, fmt.Sprintf("SELECT %s AS topic, %d AS `partition`, %d AS next_offset", quoteString(r.Topic), r.Partition, r.Next))
		}
		fmt.Fprintf(&b, "MERGE %s O\nUSING (%s) N\nON O.topic = N.topic AND O.`partition` = N.`partition`\n", s.tableRef(offsetsTable(p.entity)), strings.Join(rows, "\nUNION ALL "))
		b.WriteString("WHEN MATCHED THEN UPDATE SET next_offset = N.next_offset\n")
		b.WriteString("WHEN NOT MATCHED THEN INSERT (topic, `partition`, next_offset) VALUES (N.topic, N.`partition`, N.next_offset);\n")
	}
	b.WriteString("COMMIT TRANSACTION;\n")
	return b.String()
}

// resetScript renders the transaction that empties the entity and changelog tables of
// the given entities, forgets their deletions and replaces their stored offsets by next.
func (s *Sink) resetScript(entities []catalog.Entity, next map[catalog.Entity][]sink.Range) string {
	var b strings.Builder
	b.WriteString("-- gorgias-kafka reset\nBEGIN TRANSACTION;\n")
	for _, e := range entities {
		for _, t := range []string{e.Table(), e.ChangelogTable(), offsetsTable(e)} {
			fmt.Fprintf(&b, "DELETE FROM %s WHERE TRUE;\n", s.tableRef(t))
		}
		fmt.Fprintf(&b, "DELETE FROM %s WHERE table_name = %s;\n", s.tableRef(DeletionsTable), quoteString(e.Table()))
		var vals []string
		for _, r := range sortedRanges(next[e]) {
			vals = append(vals, fmt.Sprintf("(%s, %d, %d)", quoteString(r.Topic), r.Partition, r.Next))
		}
		if len(vals) > 0 {
			fmt.Fprintf(&b, "INSERT INTO %s (topic, `partition`, next_offset) VALUES %s;\n", s.tableRef(offsetsTable(e)), strings.Join(vals, ", "))
		}
	}
	b.WriteString("COMMIT TRANSACTION;\n")
	return b.String()
}

// offsetsQuery reads the stored offsets of the given entities.
func (s *Sink) offsetsQuery(entities []catalog.Entity) string {
	var parts []string
	for _, e := range entities {
		parts = append(parts, "SELECT topic, `partition`, next_offset FROM "+s.tableRef(offsetsTable(e)))
	}
	return strings.Join(parts, "\nUNION ALL ")
}

func sortedRanges(rs []sink.Range) []sink.Range {
	out := append([]sink.Range(nil), rs...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

// batchHash is a short stable digest of a batch's ranges, part of its job IDs.
func batchHash(rs []sink.Range) string {
	var b strings.Builder
	for _, r := range sortedRanges(rs) {
		b.WriteString(r.Topic)
		b.WriteByte('/')
		b.WriteString(strconv.Itoa(int(r.Partition)))
		b.WriteByte('/')
		b.WriteString(strconv.FormatInt(r.First, 10))
		b.WriteByte('/')
		b.WriteString(strconv.FormatInt(r.Next, 10))
		b.WriteByte(';')
	}
	return fmt.Sprintf("%08x", fnv32(b.String()))
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// writeVersionMerge appends the MERGE of p's staged versions into the entity table: the
// newest version of each id, unless the stored row is newer or equal, or a deletion
// stored by an earlier batch is not older (versionGuard). The batch's own deletions
// come after it (writeDeletionSteps), so a soft-deleted row keeps its last version's
// fields however the history was batched.
func (s *Sink) writeVersionMerge(b *strings.Builder, p entityCommit, stg string, cols []string, list string) {
	v := quoteIdent(p.entity.VersionField)
	fmt.Fprintf(b, "MERGE %s T\nUSING (SELECT * FROM %s R WHERE R.%s IS NULL AND %s QUALIFY ROW_NUMBER() OVER (PARTITION BY %s ORDER BY %s DESC, %s DESC) = 1) S\nON T.%s = S.%s AND T.%s BETWEEN %d AND %d\n",
		s.tableRef(p.entity.Table()), stg, quoteIdent(ColDeletedAt), s.versionGuard(p), quoteIdent(catalog.Key), v, quoteIdent(ColOffset),
		quoteIdent(catalog.Key), quoteIdent(catalog.Key), quoteIdent(catalog.Key), p.idLo, p.idHi)
	var sets []string
	vals := make([]string, len(cols))
	for i, c := range cols {
		if p.columns[i] != catalog.Key { // the join key stays as it is
			sets = append(sets, c+" = S."+c)
		}
		vals[i] = "S." + c
	}
	fmt.Fprintf(b, "WHEN MATCHED AND (T.%s IS NULL OR S.%s > T.%s) THEN UPDATE SET %s\n", v, v, v, strings.Join(sets, ", "))
	fmt.Fprintf(b, "WHEN NOT MATCHED THEN INSERT (%s) VALUES (%s);\n", list, strings.Join(vals, ", "))
}
