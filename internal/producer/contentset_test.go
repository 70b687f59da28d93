package producer

import (
	"encoding/json"
	"maps"
	"testing"
)

func TestContentSetRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   contentSet
	}{
		{"empty", contentSet{}},
		{"one", contentSet{42: 7}},
		{"sparse and negative", contentSet{-5: 1, 0: 0, 3: 1<<64 - 1, 1 << 40: 12345}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			var out contentSet
			if err := json.Unmarshal(b, &out); err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(tc.in, out) {
				t.Fatalf("round trip %v → %s → %v", tc.in, b, out)
			}
		})
	}
	big := contentSet{}
	for i := range int64(100_000) {
		big[1_000_000+i*7] = uint64(i) * 0x9e3779b97f4a7c15
	}
	b, _ := json.Marshal(big)
	if len(b) > 1_500_000 {
		t.Fatalf("100k objects take %d bytes of state, want at most 1.5 MB", len(b))
	}
	var bad contentSet
	if err := json.Unmarshal([]byte(`"AAE="`), &bad); err == nil {
		t.Fatal("a truncated set decoded")
	}
}
