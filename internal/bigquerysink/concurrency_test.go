package bigquerysink

import (
	"strings"
	"sync"
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

// TestConcurrentCommitAbortedThenRetried: two consumers commit batches of different
// partitions of one entity at the same time. BigQuery aborts the transaction that
// touches a table the other one holds ("Transaction is aborted due to concurrent
// update"); the sink runs it again as a new attempt, and both batches end stored
// exactly once.
func TestConcurrentCommitAbortedThenRetried(t *testing.T) {
	srv := newFake(t)
	tg := newTarget(srv, "conformance.")
	fx := sinktest.NewFixture(t, nil)
	tickets, _ := catalog.Lookup("tickets")
	a, b := tg.open(t), tg.open(t)
	defer a.Close()
	defer b.Close()
	for _, s := range []*Sink{a, b} {
		if err := s.Prepare(bg, catalog.All(), fx.Reg.Schemas("")); err != nil {
			t.Fatal(err)
		}
	}
	recsA := fx.Records(t, tickets, 10, 0)
	recsB := fx.Records(t, tickets, 10, 0)
	for i := range recsB {
		recsB[i].Partition = 1
	}
	batchB := sinktest.Batch(nil, recsB...)
	batchB.Ranges[0].Partition = 1

	// A stops inside its transaction, after its changelog INSERT, until B has been
	// aborted once and tries again.
	release, inside := make(chan struct{}), make(chan struct{})
	var once, in sync.Once
	srv.SetStatementHook(func(jobID string, _ int, sql string) {
		sql = strings.TrimSpace(sql)
		switch {
		case strings.HasPrefix(jobID, "gk_"+a.run) && strings.HasPrefix(sql, "MERGE"):
			in.Do(func() { close(inside) })
			<-release
		case strings.HasPrefix(jobID, "gk_"+b.run) && strings.Contains(jobID, "_commit_a2"):
			once.Do(func() { close(release) })
		}
	})
	t.Cleanup(func() { srv.SetStatementHook(nil) })

	var wg sync.WaitGroup
	var errA error
	wg.Add(1)
	go func() { defer wg.Done(); errA = a.Write(bg, sinktest.Batch(nil, recsA...)) }()
	<-inside // A holds the changelog table; B starts only now
	errB := b.Write(bg, batchB)
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatalf("writes: A %v, B %v", errA, errB)
	}

	aborted := 0
	for _, j := range srv.Jobs() {
		if strings.Contains(j.Err, "aborted due to concurrent update") {
			aborted++
		}
	}
	if aborted == 0 {
		t.Fatal("no transaction was aborted: the test did not overlap the commits")
	}
	log, err := a.ChangelogRows(bg, tickets)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 20 {
		t.Fatalf("changelog has %d rows, want 20 (both batches once)", len(log))
	}
	offs, err := a.Offsets(bg)
	if err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < 2; p++ {
		if got := offs[sink.TopicPartition{Topic: sinktest.Topic(tickets), Partition: p}]; got != 10 {
			t.Errorf("partition %d: stored next offset %d, want 10", p, got)
		}
	}
	t.Logf("%d aborted attempt(s)", aborted)
}
