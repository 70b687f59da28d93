package gorgiassim

import "encoding/json"

// Objects returns the truth: every object of the resource exactly as the
// list endpoint renders it now, without faults, sorted by id ascending.
// Every catalog entity is served; it is named by its Resource ("customers",
// "messages", "satisfaction-surveys") or its catalog Name ("ticket_messages",
// "satisfaction_surveys"). The slices are copies. An unknown resource gives nil.
func (s *Sim) Objects(resource string) []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.table(resource)
	if t == nil {
		return nil
	}
	out := make([]json.RawMessage, len(t.all))
	for i, it := range t.all {
		out[i] = append(json.RawMessage(nil), t.render(it)...)
	}
	return out
}

// IDs returns the ids of every object of the resource (names as for
// Objects), ascending. An unknown resource gives nil.
func (s *Sim) IDs(resource string) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.table(resource)
	if t == nil {
		return nil
	}
	out := make([]int64, len(t.all))
	for i, it := range t.all {
		out[i] = it.id
	}
	return out
}

// Deny makes every later request to the resource's endpoints (list and
// single object; "account" for /api/account) answer 403, as for an API key
// whose role lacks the permission. Unknown names are ignored.
func (s *Sim) Deny(resource string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := resolve(resource); r != "" {
		s.denied[r] = true
	}
}

// Allow undoes Deny.
func (s *Sim) Allow(resource string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.denied, resolve(resource))
}
