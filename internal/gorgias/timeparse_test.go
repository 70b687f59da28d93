package gorgias

import (
	"errors"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2024-06-20T07:39:36.514848+00:00", time.Date(2024, 6, 20, 7, 39, 36, 514848000, time.UTC)},
		{"2024-11-01T10:59:29+00:00", time.Date(2024, 11, 1, 10, 59, 29, 0, time.UTC)},
		{"2019-11-16T15:59:41.966927", time.Date(2019, 11, 16, 15, 59, 41, 966927000, time.UTC)},
		{"2019-11-16T15:59:41", time.Date(2019, 11, 16, 15, 59, 41, 0, time.UTC)},
		{"2024-11-01T10:59:29Z", time.Date(2024, 11, 1, 10, 59, 29, 0, time.UTC)},
		{"2024-11-01T10:59:29.5Z", time.Date(2024, 11, 1, 10, 59, 29, 500000000, time.UTC)},
		{"2024-11-01T12:59:29.123+02:00", time.Date(2024, 11, 1, 10, 59, 29, 123000000, time.UTC)},
		{"2024-11-01T05:59:29-05:00", time.Date(2024, 11, 1, 10, 59, 29, 0, time.UTC)},
		{"2024-11-01T10:59:29+0000", time.Date(2024, 11, 1, 10, 59, 29, 0, time.UTC)},
		{"2024-11-01 10:59:29.25", time.Date(2024, 11, 1, 10, 59, 29, 250000000, time.UTC)},
		{"2024-11-01 10:59:29+00:00", time.Date(2024, 11, 1, 10, 59, 29, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTime(tt.in)
			if err != nil {
				t.Fatalf("ParseTime: %v", err)
			}
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("got %v (%v), want %v UTC", got, got.Location(), tt.want)
			}
		})
	}
	for _, bad := range []string{"", "garbage", "2024-13-01T00:00:00", "2024-06-20", "2024-06-20T07:39", "2024-06-20T07:39:36.+00:00",
		"2024-06-20T07:39:36 +00:00", "1718869176", "2024-06-20T07:39:36.5x"} {
		t.Run("bad/"+bad, func(t *testing.T) {
			got, err := ParseTime(bad)
			if err == nil {
				t.Fatalf("ParseTime(%q) = %v, want error", bad, got)
			}
			if !errors.Is(err, ErrInvalidTime) {
				t.Errorf("error %v does not wrap ErrInvalidTime", err)
			}
		})
	}
}

func TestParseTimeAllocs(t *testing.T) {
	for _, s := range []string{"2024-06-20T07:39:36.514848+00:00", "2019-11-16T15:59:41.966927"} {
		if n := testing.AllocsPerRun(100, func() { _, _ = ParseTime(s) }); n != 0 {
			t.Errorf("ParseTime(%q) allocates %v times", s, n)
		}
	}
}

func BenchmarkParseTime(b *testing.B) {
	for b.Loop() {
		_, _ = ParseTime("2024-06-20T07:39:36.514848+00:00")
	}
}
