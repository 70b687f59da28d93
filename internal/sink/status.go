package sink

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// PartitionStatus is one partition's progress, as `consumer status` shows it.
type PartitionStatus struct {
	TopicPartition
	// Stored is the next offset stored in the destination, NoOffset if none.
	Stored int64
	// Start is the partition's log start offset and End its last stable offset
	// (read_committed end); -1 when the partition is not in Kafka.
	Start, End int64
	// Lag is End minus Stored (minus Start when nothing is stored): the records, control
	// records included, still to be written.
	Lag int64
}

// Status reads the offsets stored in s and the start and end offsets of the entity
// topics of prefix (all entities if none), and returns one line per partition, sorted.
// It only reads: neither the destination nor the consumer group changes.
func Status(ctx context.Context, s Sink, kopts []kgo.Opt, prefix string, entities []catalog.Entity) ([]PartitionStatus, error) {
	if len(entities) == 0 {
		entities = catalog.All()
	}
	topics := make([]string, 0, len(entities))
	for _, e := range entities {
		topics = append(topics, e.Topic(prefix))
	}
	stored, err := s.Offsets(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the offsets stored in the destination: %w", err)
	}
	adm, err := kadm.NewOptClient(kopts...)
	if err != nil {
		return nil, fmt.Errorf("kafka admin client: %w", err)
	}
	defer adm.Close()
	ends, err := endOffsets(ctx, adm, topics)
	if err != nil {
		return nil, err
	}
	if len(ends) == 0 {
		return nil, fmt.Errorf("none of the topics %s exists on this cluster: check kafka.topic_prefix (%q)", strings.Join(topics, ", "), prefix)
	}
	listed, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list start offsets: %w", err)
	}
	var lerr error
	listed.Each(func(o kadm.ListedOffset) {
		if o.Err != nil && !errors.Is(o.Err, kerr.UnknownTopicOrPartition) && lerr == nil {
			lerr = fmt.Errorf("list offsets of %s[%d]: %w", o.Topic, o.Partition, o.Err)
		}
	})
	if lerr != nil {
		return nil, lerr
	}
	rows := map[TopicPartition]*PartitionStatus{}
	row := func(tp TopicPartition) *PartitionStatus {
		if rows[tp] == nil {
			rows[tp] = &PartitionStatus{TopicPartition: tp, Stored: NoOffset, Start: -1, End: -1}
		}
		return rows[tp]
	}
	for tp, end := range ends {
		row(tp).End = end
		if o, ok := listed.Lookup(tp.Topic, tp.Partition); ok && o.Err == nil {
			row(tp).Start = o.Offset
		}
	}
	for tp, next := range stored {
		if slices.Contains(topics, tp.Topic) {
			row(tp).Stored = next
		}
	}
	out := make([]PartitionStatus, 0, len(rows))
	for _, r := range rows {
		from := r.Stored
		if from == NoOffset {
			from = max(r.Start, 0)
		}
		if r.End >= 0 {
			r.Lag = max(r.End-from, 0)
		}
		out = append(out, *r)
	}
	sortPartitions(out)
	return out, nil
}

// sortPartitions orders partitions by topic, then partition number.
func sortPartitions(ps []PartitionStatus) {
	slices.SortFunc(ps, func(a, b PartitionStatus) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
}

// WriteStatus prints one line per partition and a total:
//
//	TOPIC             PARTITION  STORED  END   LAG
//	gorgias.tickets   0          1204    1210  6
//	gorgias.tickets   1          -       388   388
//	total lag: 394
//
// STORED "-" means the destination has nothing of the partition yet (it will start at
// the beginning of the topic); END "-" means the partition is not in Kafka.
func WriteStatus(w io.Writer, st []PartitionStatus) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tSTORED\tEND\tLAG")
	var total int64
	for _, s := range st {
		total += s.Lag
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\n", s.Topic, s.Partition, offset(s.Stored), offset(s.End), s.Lag)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "total lag: %d\n", total)
	return err
}

func offset(o int64) string {
	if o < 0 {
		return "-"
	}
	return strconv.FormatInt(o, 10)
}

// PrintStatus reads the status of s (see Status) and writes it to w; `consumer status`
// runs it.
func PrintStatus(ctx context.Context, w io.Writer, s Sink, kopts []kgo.Opt, prefix string, entities []catalog.Entity) error {
	st, err := Status(ctx, s, kopts, prefix, entities)
	if err != nil {
		return err
	}
	return WriteStatus(w, st)
}
