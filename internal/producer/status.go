package producer

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// EntityStatus is the committed progress of one entity, as `producer status` shows it.
type EntityStatus struct {
	Entity string
	// Found is false when the state topic holds nothing for the entity yet.
	Found bool
	// Watermark is the AsOf of the last finished unbounded sweep (zero: none yet): every
	// object version up to it has been published.
	Watermark time.Time
	// LastSweepEnd is when the last sweep finished (zero: none yet).
	LastSweepEnd time.Time
	// Published counts the records published for the entity, over all runs.
	Published int64
	// Backfilled is true once the whole history was read.
	Backfilled bool
}

// ReadStatus reads the committed state of entities (all if none) from the state topic
// of prefix, with read_committed, as a running producer would load it. It does not touch
// the producer's transactional id, so it does not disturb a running producer.
func ReadStatus(ctx context.Context, kopts []kgo.Opt, prefix string, entities []catalog.Entity) ([]EntityStatus, error) {
	if len(entities) == 0 {
		entities = catalog.All()
	}
	topic := StateTopic(prefix)
	adm, err := kadm.NewOptClient(kopts...)
	if err != nil {
		return nil, fmt.Errorf("kafka admin client: %w", err)
	}
	topics, err := adm.ListTopics(ctx, topic)
	adm.Close()
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	if d, ok := topics[topic]; !ok || d.Err != nil {
		return nil, fmt.Errorf("state topic %s does not exist: no producer has run with topic prefix %q on this cluster", topic, prefix)
	}
	states, err := readState(ctx, kopts, topic)
	if err != nil {
		return nil, err
	}
	out := make([]EntityStatus, 0, len(entities))
	for _, e := range entities {
		es := EntityStatus{Entity: e.Name}
		if st := states[e.Name]; st != nil {
			es.Found = true
			es.Watermark = watermarkTime(st.Watermark)
			es.LastSweepEnd = watermarkTime(st.LastSweepEnd)
			es.Published = st.Published
			es.Backfilled = st.Backfilled
		}
		out = append(out, es)
	}
	return out, nil
}

// WriteStatus prints one line per entity: the committed watermark and its age at now,
// when the last sweep ended, the records published and whether the history was read.
//
//	ENTITY                WATERMARK                    AGE      LAST SWEEP END        PUBLISHED  BACKFILLED
//	tickets               2024-06-01T11:59:58.123456Z  2m1s     2024-06-01T12:00:03Z  1250       yes
//	satisfaction_surveys  none                         -        none                  0          no
func WriteStatus(w io.Writer, st []EntityStatus, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ENTITY\tWATERMARK\tAGE\tLAST SWEEP END\tPUBLISHED\tBACKFILLED")
	for _, s := range st {
		wm, age, end := "none", "-", "none"
		if !s.Watermark.IsZero() {
			wm = s.Watermark.UTC().Format(time.RFC3339Nano)
			age = now.Sub(s.Watermark).Round(time.Second).String()
		}
		if !s.LastSweepEnd.IsZero() {
			end = s.LastSweepEnd.UTC().Format(time.RFC3339)
		}
		back := "no"
		if s.Backfilled {
			back = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Entity, wm, age, end, strconv.FormatInt(s.Published, 10), back)
	}
	return tw.Flush()
}

// PrintStatus reads the status of entities (all if none) and writes it to w (see
// WriteStatus); `producer status` runs it.
func PrintStatus(ctx context.Context, w io.Writer, kopts []kgo.Opt, prefix string, entities []catalog.Entity) error {
	st, err := ReadStatus(ctx, kopts, prefix, entities)
	if err != nil {
		return err
	}
	return WriteStatus(w, st, time.Now())
}
