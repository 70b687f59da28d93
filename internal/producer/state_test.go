package producer

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/testenv"
)

func TestSegmentCovers(t *testing.T) {
	seg := Segment{Lo: 100, LoIDs: []int64{7}, From: 50, AsOf: 200, Recent: map[int64]int64{9: 250}}
	tests := []struct {
		name          string
		sort, ver, id int64
		want          bool
	}{
		{"inside", 150, 150, 1, true},
		{"at lo, visited id", 100, 150, 7, true},
		{"at lo, other id", 100, 150, 8, false},
		{"below lo", 99, 150, 1, false},
		{"version above as_of", 150, 201, 1, false},
		{"recent exact", 150, 250, 9, true},
		{"recent other version", 150, 251, 9, false},
		{"version below from", 150, 49, 1, false},
		{"version at from", 150, 50, 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := seg.covers(tc.sort, tc.ver, tc.id); got != tc.want {
				t.Fatalf("covers(%d,%d,%d) = %v, want %v", tc.sort, tc.ver, tc.id, got, tc.want)
			}
		})
	}
	full := Segment{Lo: minTime, From: minTime, AsOf: 10}
	if !full.covers(minTime+1, 5, 1) || !full.covers(-5, -5, 1) {
		t.Fatal("segment reaching the end of the list must cover every sort value")
	}
}

func TestCoveredBelow(t *testing.T) {
	st := &EntityState{Segments: []Segment{
		{Lo: minTime, From: minTime, AsOf: 100},
		{Lo: 150, From: minTime, AsOf: 300},
	}}
	tests := []struct {
		from, p int64
		want    bool
	}{
		{minTime, 50, true},
		{minTime, 101, true},  // [min,100] covered
		{minTime, 102, false}, // 101 is a gap
		{minTime, 152, false}, // gap (100,150]
		{120, 152, false},     // gap still
		{151, 301, true},      // (150,300]
		{151, 302, false},
		{500, 400, true}, // empty range
	}
	for _, tc := range tests {
		if got := st.coveredBelow(tc.from, tc.p, -1); got != tc.want {
			t.Errorf("coveredBelow(%d,%d) = %v, want %v", tc.from, tc.p, got, tc.want)
		}
	}
	if st.coveredBelow(minTime, 50, 0) {
		t.Error("skipped segment must not count")
	}
}

func TestPruneMergesVersionIntervals(t *testing.T) {
	st := &EntityState{Segments: []Segment{
		{Lo: minTime, From: minTime, AsOf: 100, Done: true},
		{Lo: 150, LoIDs: []int64{3}, From: minTime, AsOf: 300, Done: false}, // interrupted sweep
		{Lo: 90, LoIDs: []int64{1}, From: minTime, AsOf: 400, Done: true},   // restart that reached below 100
	}}
	before := snapshotCoverage(st, true)
	st.prune(true, 32)
	if len(st.Segments) != 1 {
		t.Fatalf("want one merged segment, got %+v", st.Segments)
	}
	if got := st.Segments[0]; got.Lo != minTime || got.AsOf != 400 {
		t.Fatalf("merged segment = %+v", got)
	}
	if after := snapshotCoverage(st, true); after != before {
		t.Fatalf("prune changed coverage:\nbefore %s\nafter  %s", before, after)
	}
}

func TestPruneKeepsGaps(t *testing.T) {
	st := &EntityState{Segments: []Segment{
		{Lo: minTime, From: minTime, AsOf: 100, Done: true},
		{Lo: 150, LoIDs: []int64{3}, From: minTime, AsOf: 300, Done: true},
	}}
	before := snapshotCoverage(st, true)
	st.prune(true, 32)
	if len(st.Segments) != 2 {
		t.Fatalf("segments with a gap must not merge: %+v", st.Segments)
	}
	if after := snapshotCoverage(st, true); after != before {
		t.Fatalf("prune changed coverage")
	}
}

func TestPruneDropsDominatedOnly(t *testing.T) {
	st := &EntityState{Segments: []Segment{
		{Lo: minTime, From: minTime, AsOf: 100, Done: true},                             // backfill
		{Lo: 50, From: minTime, AsOf: 200, Recent: map[int64]int64{4: 210}},             // interrupted
		{Lo: 40, From: minTime, AsOf: 300, Done: true},                                  // dominates the interrupted one
		{Lo: 60, From: minTime, AsOf: 250, Recent: map[int64]int64{5: 400}, Done: true}, // not dominated: recent 5@400
	}}
	before := snapshotCoverage(st)
	st.prune(false, 32)
	if len(st.Segments) != 3 {
		t.Fatalf("want 3 segments, got %d: %+v", len(st.Segments), st.Segments)
	}
	if after := snapshotCoverage(st); after != before {
		t.Fatalf("prune changed coverage:\nbefore %s\nafter  %s", before, after)
	}
}

func TestPruneCap(t *testing.T) {
	st := &EntityState{}
	for i := int64(0); i < 10; i++ {
		st.Segments = append(st.Segments, Segment{Lo: 100 * i, From: minTime, AsOf: 1000 + 100*i, Done: true})
	}
	st.Segments[0].Lo = minTime
	st.prune(false, 4)
	if len(st.Segments) != 4 {
		t.Fatalf("cap not applied: %d", len(st.Segments))
	}
	if st.Segments[0].Lo != minTime {
		t.Fatal("the segment reaching the end of the list must survive the cap")
	}
}

func TestStateRoundTrip(t *testing.T) {
	st := &EntityState{Entity: "tickets", Backfilled: true, Published: 12,
		Segments: []Segment{{Lo: minTime, From: minTime, AsOf: 5, Recent: map[int64]int64{1: 9}, Done: true}}}
	b, err := st.marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := unmarshalState("tickets", b)
	if err != nil {
		t.Fatal(err)
	}
	if snapshotCoverage(got) != snapshotCoverage(st) || got.Published != 12 || !got.Backfilled {
		t.Fatalf("round trip mismatch: %s", b)
	}
	if _, err := unmarshalState("tickets", []byte(`{"format":99}`)); err == nil {
		t.Fatal("unknown format must be refused")
	}
	if _, err := unmarshalState("tickets", []byte(`{`)); err == nil {
		t.Fatal("malformed state must be refused")
	}
}

// snapshotCoverage evaluates Covered on a grid of (sort, version, id) points.
func snapshotCoverage(st *EntityState, diagonal ...bool) string {
	diag := len(diagonal) > 0 && diagonal[0]
	var out []byte
	for s := int64(0); s <= 450; s += 10 {
		for v := s; v <= 450; v += 10 {
			if diag && v != s {
				continue
			}
			for _, id := range []int64{1, 3, 4, 5, 9} {
				if st.Covered(s, v, id) {
					out = append(out, '1')
				} else {
					out = append(out, '0')
				}
			}
		}
	}
	// also the exact recent points
	for _, p := range [][3]int64{{150, 210, 4}, {150, 400, 5}, {100, 100, 3}, {150, 150, 3}, {90, 90, 1}} {
		if diag && p[0] != p[1] {
			continue
		}
		if st.Covered(p[0], p[1], p[2]) {
			out = append(out, '1')
		} else {
			out = append(out, '0')
		}
	}
	b, _ := json.Marshal(string(out))
	return string(b)
}

// A state topic created before snapshot entities existed, with the broker's default
// record size limit, gets the limit a snapshot state needs when the producer starts.
func TestStateTopicLimitRaised(t *testing.T) {
	e := newEnv(t, smallSim)
	adm, err := kadm.NewOptClient(e.KOpts...)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	ctx := context.Background()
	state := StateTopic(e.Prefix)
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}, state); err != nil {
		t.Fatal(err)
	}
	limit := func() string {
		rcs, err := adm.DescribeTopicConfigs(ctx, state)
		if err != nil {
			t.Fatal(err)
		}
		rc, _ := rcs.On(state, nil)
		for _, c := range rc.Configs {
			if c.Key == "max.message.bytes" && c.Value != nil {
				return *c.Value
			}
		}
		return ""
	}
	if got := limit(); got == strconv.Itoa(stateMaxBytes) {
		t.Fatalf("the new topic already has %s", got)
	}
	e.mustRun(e.config(func(c *Config) { c.Entities = []catalog.Entity{testenv.Entity(t, "tags")} }))
	if got := limit(); got != strconv.Itoa(stateMaxBytes) {
		t.Fatalf("state topic max.message.bytes %s, want %d", got, stateMaxBytes)
	}
}
