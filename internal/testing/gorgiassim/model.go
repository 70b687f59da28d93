package gorgiassim

import (
	"bytes"
	"encoding/json"
	"sync"
	"time"
)

// tsForm is how one object's timestamps are rendered. Each object has one
// form for all of its timestamps, chosen deterministically from its id.
type tsForm uint8

const (
	formMicro   tsForm = iota // 2024-06-20T07:39:36.514848+00:00
	formSeconds               // 2024-11-01T10:59:29+00:00 (stored times are whole seconds)
	formNaive                 // 2019-11-16T15:59:41.966927 (UTC without an offset)
)

// formFor picks the rendering form of an object: about 1 in 7 objects have
// whole seconds, about 1 in 11 are naive, the rest carry microseconds.
func formFor(salt uint64, id int64) tsForm {
	switch h := mix64(uint64(id)^salt) % 77; {
	case h < 11:
		return formSeconds
	case h < 18:
		return formNaive
	default:
		return formMicro
	}
}

// mix64 is the splitmix64 finalizer: a cheap, well-distributed hash.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// stamp is a timestamp field: the zero time renders as JSON null.
type stamp struct {
	t time.Time
	f tsForm
}

func (s stamp) isSet() bool { return !s.t.IsZero() }

// micros is the sort value of a stamp (0 when null).
func (s stamp) micros() int64 {
	if s.t.IsZero() {
		return 0
	}
	return s.t.UnixMicro()
}

// MarshalJSON renders the stamp in its object's form, or null.
func (s stamp) MarshalJSON() ([]byte, error) {
	if s.t.IsZero() {
		return []byte("null"), nil
	}
	b := make([]byte, 0, 36)
	b = append(b, '"')
	b = s.appendText(b)
	return append(b, '"'), nil
}

// appendText appends the timestamp like Python's isoformat does: the
// fraction is left out when it is zero.
func (s stamp) appendText(b []byte) []byte {
	t := s.t.UTC()
	if t.Nanosecond()/1000 == 0 || s.f == formSeconds {
		b = t.AppendFormat(b, "2006-01-02T15:04:05")
	} else {
		b = t.AppendFormat(b, "2006-01-02T15:04:05.000000")
	}
	if s.f != formNaive {
		b = append(b, "+00:00"...)
	}
	return b
}

// text is the rendered timestamp without quotes ("" for null).
func (s stamp) text() string {
	if s.t.IsZero() {
		return ""
	}
	return string(s.appendText(nil))
}

// extras are the unknown keys every object carries when Config.ExtraFields is set.
type extras struct {
	XSimFlag *bool         `json:"x_sim_flag,omitempty"`
	XSimInfo *extraInfoObj `json:"x_sim_info,omitempty"`
}

type extraInfoObj struct {
	A int `json:"a"`
}

func newExtras(on bool) extras {
	if !on {
		return extras{}
	}
	t := true
	return extras{XSimFlag: &t, XSimInfo: &extraInfoObj{A: 1}}
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

type channel struct {
	ID              int64  `json:"id"`
	Type            string `json:"type"`
	Address         string `json:"address"`
	Preferred       bool   `json:"preferred"`
	CreatedDatetime stamp  `json:"created_datetime"`
	UpdatedDatetime stamp  `json:"updated_datetime"`
}

type customer struct {
	ID              int64          `json:"id"`
	ExternalID      *string        `json:"external_id"`
	Active          bool           `json:"active"`
	Email           *string        `json:"email"`
	Name            *string        `json:"name"`
	Firstname       string         `json:"firstname"`
	Lastname        string         `json:"lastname"`
	Language        *string        `json:"language"`
	Timezone        *string        `json:"timezone"`
	CreatedDatetime stamp          `json:"created_datetime"`
	UpdatedDatetime stamp          `json:"updated_datetime"`
	Meta            map[string]any `json:"meta"`
	Data            map[string]any `json:"data"`
	Note            *string        `json:"note"`
	Channels        []channel      `json:"channels"`
	Integrations    map[string]any `json:"integrations"`
	CustomFields    map[string]any `json:"custom_fields"`
	extras

	form tsForm
	raw  []byte
}

type teamRef struct {
	ID         int64          `json:"id"`
	Name       string         `json:"name"`
	Decoration map[string]any `json:"decoration"`
}

type ticketIntegration struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Type    string `json:"type"`
}

type tagRef struct {
	ID         int64             `json:"id"`
	Name       string            `json:"name"`
	URI        string            `json:"uri"`
	Decoration map[string]string `json:"decoration"`
}

type customFieldValue struct {
	ID         int64          `json:"id"`
	Value      any            `json:"value"`
	Prediction map[string]any `json:"prediction"`
}

type ticket struct {
	ID                          int64                       `json:"id"`
	URI                         string                      `json:"uri"`
	ExternalID                  *string                     `json:"external_id"`
	Language                    *string                     `json:"language"`
	Status                      string                      `json:"status"`
	Priority                    string                      `json:"priority"`
	Channel                     string                      `json:"channel"`
	Via                         string                      `json:"via"`
	FromAgent                   bool                        `json:"from_agent"`
	Spam                        bool                        `json:"spam"`
	Customer                    personRef                   `json:"customer"`
	AssigneeUser                *personRef                  `json:"assignee_user"`
	AssigneeUserID              *int64                      `json:"assignee_user_id"`
	AssigneeTeam                *teamRef                    `json:"assignee_team"`
	AssigneeTeamID              *int64                      `json:"assignee_team_id"`
	Subject                     *string                     `json:"subject"`
	Excerpt                     *string                     `json:"excerpt"`
	Integrations                []ticketIntegration         `json:"integrations"`
	Meta                        map[string]any              `json:"meta"`
	Tags                        []tagRef                    `json:"tags"`
	CustomFields                map[string]customFieldValue `json:"custom_fields"`
	MessagesCount               int                         `json:"messages_count"`
	IsUnread                    bool                        `json:"is_unread"`
	CreatedDatetime             stamp                       `json:"created_datetime"`
	OpenedDatetime              stamp                       `json:"opened_datetime"`
	LastReceivedMessageDatetime stamp                       `json:"last_received_message_datetime"`
	LastMessageDatetime         stamp                       `json:"last_message_datetime"`
	UpdatedDatetime             stamp                       `json:"updated_datetime"`
	ClosedDatetime              stamp                       `json:"closed_datetime"`
	SnoozeDatetime              stamp                       `json:"snooze_datetime"`
	TrashedDatetime             stamp                       `json:"trashed_datetime"`
	extras

	form  tsForm
	topic int
	order int64 // order number the conversation is about
	raw   []byte
}

type address struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

type msgSource struct {
	Type  string         `json:"type"`
	From  address        `json:"from"`
	To    []address      `json:"to"`
	Cc    []address      `json:"cc"`
	Bcc   []address      `json:"bcc"`
	Extra map[string]any `json:"extra"`
}

type intent struct {
	Name           string `json:"name"`
	IsUserFeedback bool   `json:"is_user_feedback"`
	Rejected       bool   `json:"rejected"`
}

type attachment struct {
	URL         string         `json:"url"`
	Name        string         `json:"name"`
	ContentType string         `json:"content_type"`
	Size        int            `json:"size"`
	Public      bool           `json:"public"`
	Extra       map[string]any `json:"extra"`
}

type action struct {
	Name      string         `json:"name"`
	Title     string         `json:"title"`
	Type      string         `json:"type"`
	Status    string         `json:"status"`
	Arguments map[string]any `json:"arguments"`
}

type macroRef struct {
	ID int64 `json:"id"`
}

type message struct {
	ID                int64             `json:"id"`
	URI               string            `json:"uri"`
	MessageID         *string           `json:"message_id"`
	TicketID          int64             `json:"ticket_id"`
	ExternalID        *string           `json:"external_id"`
	Public            bool              `json:"public"`
	Channel           string            `json:"channel"`
	Via               string            `json:"via"`
	Source            *msgSource        `json:"source"`
	Sender            personRef         `json:"sender"`
	Receiver          *personRef        `json:"receiver"`
	IntegrationID     *int64            `json:"integration_id"`
	Intents           []intent          `json:"intents"`
	RuleID            *int64            `json:"rule_id"`
	FromAgent         bool              `json:"from_agent"`
	Subject           *string           `json:"subject"`
	BodyText          *string           `json:"body_text"`
	BodyHTML          *string           `json:"body_html"`
	StrippedText      *string           `json:"stripped_text"`
	StrippedHTML      *string           `json:"stripped_html"`
	StrippedSignature *string           `json:"stripped_signature"`
	Headers           map[string]string `json:"headers"`
	Attachments       []attachment      `json:"attachments"`
	Actions           []action          `json:"actions"`
	Macros            []macroRef        `json:"macros"`
	Meta              map[string]any    `json:"meta"`
	CreatedDatetime   stamp             `json:"created_datetime"`
	SentDatetime      stamp             `json:"sent_datetime"`
	FailedDatetime    stamp             `json:"failed_datetime"`
	DeletedDatetime   stamp             `json:"deleted_datetime"`
	OpenedDatetime    stamp             `json:"opened_datetime"`
	LastSendingError  *string           `json:"last_sending_error"`
	IsRetriable       bool              `json:"is_retriable"`
	extras

	form tsForm
	raw  []byte
}

type survey struct {
	ID                 int64          `json:"id"`
	BodyText           *string        `json:"body_text"`
	CreatedDatetime    stamp          `json:"created_datetime"`
	CustomerID         int64          `json:"customer_id"`
	Meta               map[string]any `json:"meta"`
	Score              *int           `json:"score"`
	ScoredDatetime     stamp          `json:"scored_datetime"`
	SentDatetime       stamp          `json:"sent_datetime"`
	ShouldSendDatetime stamp          `json:"should_send_datetime"`
	TicketID           int64          `json:"ticket_id"`
	URI                string         `json:"uri"`
	extras

	form tsForm
	raw  []byte
}

// field is a sortable attribute.
type field uint8

const (
	fieldCreated field = iota
	fieldUpdated
)

// entry is what a store holds: one object of any resource.
type entry interface {
	entryID() int64
	sortVal(field) int64
	ticketRef() int64 // parent ticket for the ticket_id filter, 0 if none
	render() []byte   // cached JSON, rebuilt after invalidate
	invalidate()
}

func (c *customer) entryID() int64 { return c.ID }
func (c *customer) ticketRef() int64 {
	return 0
}
func (c *customer) sortVal(f field) int64 {
	if f == fieldUpdated {
		return c.UpdatedDatetime.micros()
	}
	return c.CreatedDatetime.micros()
}
func (c *customer) invalidate() { c.raw = nil }
func (c *customer) render() []byte {
	if c.raw == nil {
		c.raw = marshal(c)
	}
	return c.raw
}

func (t *ticket) entryID() int64   { return t.ID }
func (t *ticket) ticketRef() int64 { return 0 }
func (t *ticket) sortVal(f field) int64 {
	if f == fieldUpdated {
		return t.UpdatedDatetime.micros()
	}
	return t.CreatedDatetime.micros()
}
func (t *ticket) invalidate() { t.raw = nil }
func (t *ticket) render() []byte {
	if t.raw == nil {
		t.raw = marshal(t)
	}
	return t.raw
}

func (m *message) entryID() int64        { return m.ID }
func (m *message) ticketRef() int64      { return m.TicketID }
func (m *message) sortVal(_ field) int64 { return m.CreatedDatetime.micros() }
func (m *message) invalidate()           { m.raw = nil }
func (m *message) render() []byte {
	if m.raw == nil {
		m.raw = marshal(m)
	}
	return m.raw
}

func (s *survey) entryID() int64        { return s.ID }
func (s *survey) ticketRef() int64      { return s.TicketID }
func (s *survey) sortVal(_ field) int64 { return s.CreatedDatetime.micros() }
func (s *survey) invalidate()           { s.raw = nil }
func (s *survey) render() []byte {
	if s.raw == nil {
		s.raw = marshal(s)
	}
	return s.raw
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// marshal renders v like the API does (no HTML escaping) into an exactly
// sized slice that is never modified afterwards.
func marshal(v any) []byte {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("gorgiassim: render: " + err.Error()) // only plain data is rendered
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
	return append([]byte(nil), b...)
}

func ptr[T any](v T) *T { return &v }
