package gorgiassim

import (
	"bytes"
	"encoding/json"
	"sync"
)

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

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// extras are the unknown keys every object carries when Config.ExtraFields
// is set. Generators embed them in their object structs.
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
