package producer

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// readState reads the state topic to its last stable offset with read_committed and
// returns the newest state per entity. The caller must have initialised its
// transactional producer id first, so a dead predecessor's open transaction is aborted
// and the last stable offset is not held back by it.
func readState(ctx context.Context, opts []kgo.Opt, stateTopic string) (map[string]*EntityState, error) {
	from, ends, err := stateBounds(ctx, opts, stateTopic)
	if err != nil {
		return nil, err
	}
	if len(ends) == 0 {
		return map[string]*EntityState{}, nil
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, opts...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{stateTopic: from}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
	)...)
	if err != nil {
		return nil, fmt.Errorf("state reader: %w", err)
	}
	defer cl.Close()
	return pollState(ctx, cl, ends)
}

// stateBounds returns, for each partition of the state topic that holds records, the
// offset to read from (its start offset) and the last stable offset to read up to.
func stateBounds(ctx context.Context, opts []kgo.Opt, stateTopic string) (map[int32]kgo.Offset, map[int32]int64, error) {
	adm, err := kadm.NewOptClient(opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("kafka admin client: %w", err)
	}
	defer adm.Close()
	ends, err := adm.ListCommittedOffsets(ctx, stateTopic)
	if err != nil {
		return nil, nil, fmt.Errorf("list state topic offsets: %w", err)
	}
	starts, err := adm.ListStartOffsets(ctx, stateTopic)
	if err != nil {
		return nil, nil, fmt.Errorf("list state topic start offsets: %w", err)
	}
	want := map[int32]int64{}
	from := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			return
		}
		start := int64(0)
		if s, ok := starts.Lookup(o.Topic, o.Partition); ok && s.Err == nil {
			start = s.Offset
		}
		if o.Offset > start {
			want[o.Partition] = o.Offset
			from[o.Partition] = kgo.NewOffset().At(start)
		}
	})
	if err := ends.Error(); err != nil {
		return nil, nil, fmt.Errorf("list state topic offsets: %w", err)
	}
	return from, want, nil
}

// pollState reads the state records until every partition in want reached its end
// offset, and returns the newest state per entity.
func pollState(ctx context.Context, cl *kgo.Client, want map[int32]int64) (map[string]*EntityState, error) {
	out := map[string]*EntityState{}
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read producer state: %w", err)
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) { ferr = fmt.Errorf("read %s[%d]: %w", t, p, err) })
		if ferr != nil {
			return nil, ferr
		}
		for _, r := range fs.Records() {
			if end, ok := want[r.Partition]; ok && r.Offset >= end-1 {
				delete(want, r.Partition)
			}
			if err := applyState(out, r); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// applyState applies one record of the state topic to the states per entity: a state
// replaces the entity's, a tombstone removes it; control records are skipped.
func applyState(states map[string]*EntityState, r *kgo.Record) error {
	if r.Attrs.IsControl() || r.Key == nil {
		return nil
	}
	if r.Value == nil {
		delete(states, string(r.Key))
		return nil
	}
	st, err := unmarshalState(string(r.Key), r.Value)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadState, err)
	}
	states[string(r.Key)] = st
	return nil
}
