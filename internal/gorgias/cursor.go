package gorgias

import (
	"fmt"
	"hash/maphash"
)

// CursorGuard detects a pagination loop: a next cursor that was already
// followed within one walk over a resource. The zero value is ready to use;
// use one guard per walk (or call Reset). It stores a 64-bit hash per cursor,
// so memory stays small even for walks of hundreds of thousands of pages.
// A CursorGuard is not safe for concurrent use.
type CursorGuard struct {
	seed  maphash.Seed
	seen  map[uint64]struct{}
	pages int
}

// Check records next and returns an error wrapping ErrCursorLoop if the same
// cursor was already recorded since the last Reset. An empty cursor (last
// page) is always accepted and not recorded.
func (g *CursorGuard) Check(next string) error {
	if next == "" {
		return nil
	}
	if g.seen == nil {
		g.seed = maphash.MakeSeed()
		g.seen = make(map[uint64]struct{})
	}
	g.pages++
	h := maphash.String(g.seed, next)
	if _, dup := g.seen[h]; dup {
		return fmt.Errorf("%w: the API returned an already followed cursor after %d pages", ErrCursorLoop, g.pages)
	}
	g.seen[h] = struct{}{}
	return nil
}

// Reset forgets every recorded cursor so the guard can serve a new walk.
func (g *CursorGuard) Reset() {
	g.seen = nil
	g.pages = 0
}
