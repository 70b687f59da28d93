package gorgiassim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"strconv"
	"strings"
)

// cursor is the decoded keyset position of a page boundary: base64 of the
// JSON array [kind, order_by, sort value, id].
type cursor struct {
	prev  bool
	order string
	pos   pagePos
}

// parseCursor decodes the cursor parameter ("" gives nil) made for order.
func parseCursor(text, order string) (*cursor, *answer) {
	if text == "" {
		return nil, nil
	}
	c, ok := decodeCursor(text)
	if !ok {
		a := badRequest("Invalid cursor.", "cursor", "Invalid or expired cursor.")
		return nil, &a
	}
	if c.order != order {
		a := badRequest("Invalid cursor.", "cursor", "The cursor was made for order_by="+c.order+", not "+order+".")
		return nil, &a
	}
	return &c, nil
}

// appendCursor appends the cursor at items[i] as a JSON string, or null
// when !ok.
func appendCursor(b []byte, ok, prev bool, order string, items []ranked, i int) []byte {
	if !ok {
		return append(b, "null"...)
	}
	return strconv.AppendQuote(b, encodeCursor(prev, order, items[i]))
}

func encodeCursor(prev bool, order string, r ranked) string {
	kind := "next"
	if prev {
		kind = "prev"
	}
	b, _ := json.Marshal([]any{kind, order, r.v, r.it.id})
	return base64.StdEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, bool) {
	s = strings.ReplaceAll(s, " ", "+") // a '+' sent unescaped arrives as a space
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if raw, err = base64.URLEncoding.DecodeString(s); err != nil {
			return cursor{}, false
		}
	}
	parts, ok := cursorParts(raw)
	if !ok {
		return cursor{}, false
	}
	kind, ok1 := parts[0].(string)
	order, ok2 := parts[1].(string)
	vn, ok3 := parts[2].(json.Number)
	in, ok4 := parts[3].(json.Number)
	if !ok1 || !ok2 || !ok3 || !ok4 || (kind != "next" && kind != "prev") {
		return cursor{}, false
	}
	v, err1 := vn.Int64()
	id, err2 := in.Int64()
	if err1 != nil || err2 != nil {
		return cursor{}, false
	}
	return cursor{prev: kind == "prev", order: order, pos: pagePos{v: v, id: id}}, true
}

// cursorParts decodes exactly one JSON array of four values.
func cursorParts(raw []byte) ([]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var parts []any
	if dec.Decode(&parts) != nil || dec.Decode(new(any)) != io.EOF || len(parts) != 4 {
		return nil, false
	}
	return parts, true
}
