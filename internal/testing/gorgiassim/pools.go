package gorgiassim

import (
	"fmt"
	"strings"
)

// pools are the account's fixed furniture that generators draw from: its
// agents, teams and tags.
type pools struct {
	users []personRef
	teams []teamRef
	tags  []tagRef
}

// personRef is an embedded customer or user: ticket.customer,
// ticket.assignee_user, message.sender and message.receiver.
type personRef struct {
	ID        int64          `json:"id"`
	Email     *string        `json:"email"`
	Name      *string        `json:"name"`
	Firstname string         `json:"firstname"`
	Lastname  string         `json:"lastname"`
	Meta      map[string]any `json:"meta"`
	extras
}

type teamRef struct {
	ID         int64          `json:"id"`
	Name       string         `json:"name"`
	Decoration map[string]any `json:"decoration"`
}

type tagRef struct {
	ID         int64             `json:"id"`
	Name       string            `json:"name"`
	URI        string            `json:"uri"`
	Decoration map[string]string `json:"decoration"`
}

// newPools makes the account's furniture (no random draws: the pools are
// the same for every Seed).
func newPools(cfg Config) pools {
	return pools{users: agents(cfg.Domain), teams: teams(), tags: tags()}
}

func agents(domain string) []personRef {
	var out []personRef
	for i, n := range agentNames {
		email := strings.ToLower(n[0]) + "@" + domain + ".com"
		var pic any
		if i%3 != 2 {
			pic = fmt.Sprintf("https://config.gorgias.help/static/avatars/%d.png", 5100+i)
		}
		out = append(out, personRef{
			ID:    int64(420017 + i*131),
			Email: ptr(email), Name: ptr(n[0] + " " + n[1]), Firstname: n[0], Lastname: n[1],
			Meta: map[string]any{"name_set_via": "agent", "profile_picture_url": pic, "sso": nil},
		})
	}
	return out
}

func teams() []teamRef {
	var out []teamRef
	for i, t := range teamPool {
		out = append(out, teamRef{
			ID: int64(8801 + i*7), Name: t.name,
			Decoration: map[string]any{"emoji": map[string]any{
				"id": t.emojiID, "name": t.emojiName, "skin": nil, "colons": ":" + t.emojiID + ":",
				"native": t.native, "unified": t.unified, "emoticons": []string{},
			}},
		})
	}
	return out
}

func tags() []tagRef {
	var out []tagRef
	for i, t := range tagPool {
		id := int64(310021 + i*17)
		out = append(out, tagRef{
			ID: id, Name: t.name, URI: fmt.Sprintf("/api/tags/%d/", id),
			Decoration: map[string]string{"color": t.color},
		})
	}
	return out
}

func (s *Sim) supportAddress() string { return "support@" + s.cfg.Domain + ".com" }
func (s *Sim) shopURL() string        { return "https://" + s.cfg.Domain + ".com" }
