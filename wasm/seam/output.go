package seam

import (
	"strconv"
	"strings"
	"time"

	"github.com/gqlauth/gqlauth/wasm/client"
	"github.com/gqlauth/gqlauth/wasm/graphql"
)

// output is the record an export answers with (see the package doc),
// built list by list and written once.
type output struct {
	events, replies, heads, stops, warnings, wakes []byte
	touched                                        []int // the clients the export touched, for wakes
	b                                              []byte
}

func (o *output) reset() {
	o.events, o.replies, o.heads, o.stops, o.warnings, o.wakes = o.events[:0], o.replies[:0], o.heads[:0], o.stops[:0], o.warnings[:0], o.wakes[:0]
	o.touched = o.touched[:0]
}

// touch notes that the export concerns client h.
func (o *output) touch(h int) {
	for _, t := range o.touched {
		if t == h {
			return
		}
	}
	o.touched = append(o.touched, h)
}

// bytes writes the record: valid until the next export.
func (o *output) bytes() []byte {
	o.b = append(o.b[:0], '{')
	for _, l := range []struct {
		name string
		list []byte
	}{{"events", o.events}, {"replies", o.replies}, {"heads", o.heads}, {"stops", o.stops}, {"warnings", o.warnings}, {"wakes", o.wakes}} {
		if len(l.list) == 0 {
			continue
		}
		if len(o.b) > 1 {
			o.b = append(o.b, ',')
		}
		o.b = append(o.b, '"')
		o.b = append(o.b, l.name...)
		o.b = append(o.b, `":[`...)
		o.b = append(o.b, l.list[1:]...) // each entry starts with a comma
		o.b = append(o.b, ']')
	}
	return append(o.b, '}')
}

func (o *output) event(h int, e client.Event, st State) {
	b := append(o.events, `,{"client":`...)
	b = strconv.AppendInt(b, int64(h), 10)
	b = append(b, `,"reason":`...)
	b = graphql.AppendString(b, string(e.Reason))
	b = append(b, `,"cause":`...)
	b = strconv.AppendInt(b, int64(e.Cause), 10)
	o.events = append(appendState(b, st), '}')
}

func (o *output) reply(id uint32, h int, body bool, st State) {
	b := append(o.replies, `,{"call":`...)
	b = strconv.AppendUint(b, uint64(id), 10)
	b = append(b, `,"ok":true`...)
	if h != 0 {
		b = append(b, `,"client":`...)
		b = strconv.AppendInt(b, int64(h), 10)
	}
	if body {
		b = append(b, `,"body":true`...)
	}
	o.replies = append(appendState(b, st), '}')
}

// fail answers call id with err: its code, message (prefixed "gqlauth:"),
// status, and whether the body holds the server's errors.
func (o *output) fail(id uint32, err error, st State) {
	code, status, inBody := client.Details(err)
	msg := err.Error()
	if !strings.HasPrefix(msg, "gqlauth: ") {
		msg = "gqlauth: " + msg
	}
	b := append(o.replies, `,{"call":`...)
	b = strconv.AppendUint(b, uint64(id), 10)
	b = append(b, `,"ok":false,"code":`...)
	b = graphql.AppendString(b, string(code))
	b = append(b, `,"message":`...)
	b = graphql.AppendString(b, msg)
	if status != 0 {
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(status), 10)
	}
	if inBody {
		b = append(b, `,"body":true`...)
	}
	o.replies = append(appendState(b, st), '}')
}

func (o *output) head(id uint32, h client.Head) {
	b := append(o.heads, `,{"call":`...)
	b = strconv.AppendUint(b, uint64(id), 10)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(h.Status), 10)
	b = append(b, `,"statusText":`...)
	b = graphql.AppendString(b, h.StatusText)
	b = append(b, `,"headers":[`...)
	for i, kv := range h.All {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = graphql.AppendString(b, kv[0])
		b = append(b, ',')
		b = graphql.AppendString(b, kv[1])
		b = append(b, ']')
	}
	o.heads = append(b, "]}"...)
}

func (o *output) stop(id uint32) {
	o.stops = strconv.AppendUint(append(o.stops, ','), uint64(id), 10)
}

func (o *output) warn(h int, message string) {
	b := append(o.warnings, `,{"client":`...)
	b = strconv.AppendInt(b, int64(h), 10)
	b = append(b, `,"message":`...)
	o.warnings = append(graphql.AppendString(b, message), '}')
}

func (o *output) wake(h int, in time.Duration) {
	b := append(o.wakes, `,{"client":`...)
	b = strconv.AppendInt(b, int64(h), 10)
	b = append(b, `,"in":`...)
	if in < 0 {
		b = append(b, "-1"...)
	} else {
		b = strconv.AppendFloat(b, ms(in), 'f', -1, 64)
	}
	o.wakes = append(b, '}')
}

// appendState appends the state's members: expiresAt (ms since the epoch,
// or null), expiresIn and usableFor (ms).
func appendState(b []byte, st State) []byte {
	b = append(b, `,"expiresAt":`...)
	if st.ExpiresAt.IsZero() {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, st.ExpiresAt.UnixMilli(), 10)
	}
	b = append(b, `,"expiresIn":`...)
	b = strconv.AppendFloat(b, ms(st.ExpiresIn), 'f', -1, 64)
	b = append(b, `,"usableFor":`...)
	return strconv.AppendFloat(b, ms(st.UsableFor), 'f', -1, 64)
}
