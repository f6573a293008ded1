package domain

import (
	"bytes"
	"strconv"
	"time"
	"unicode/utf8"
)

// Metadata member names. The correlation and causation IDs use the names
// KurrentDB's system projections ($by_correlation_id) read.
const (
	metaVersion     = "v"
	metaOccurredAt  = "occurredAt"
	metaCorrelation = "$correlationId"
	metaCausation   = "$causationId"
	metaEstimated   = "estimated"
	metaActor       = "actor"
)

// versionPrefix is how EncodeMetadata starts, so DecodeData can read the
// schema version without parsing the rest.
const versionPrefix = `{"` + metaVersion + `":`

// EncodeMetadata writes the metadata as compact JSON with the schema version
// first; empty IDs and a false Estimated are left out.
func EncodeMetadata(m Metadata) []byte {
	b := make([]byte, 0, 96)
	b = append(b, versionPrefix...)
	b = strconv.AppendInt(b, int64(m.SchemaVersion), 10)
	if !m.OccurredAt.IsZero() {
		b = append(b, `,"`+metaOccurredAt+`":"`...)
		b = m.OccurredAt.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	if m.CorrelationID != "" {
		b = append(b, `,"`+metaCorrelation+`":`...)
		b = appendJSONString(b, m.CorrelationID)
	}
	if m.CausationID != "" {
		b = append(b, `,"`+metaCausation+`":`...)
		b = appendJSONString(b, m.CausationID)
	}
	if m.Actor != "" {
		b = append(b, `,"`+metaActor+`":`...)
		b = appendJSONString(b, m.Actor)
	}
	if m.Estimated {
		b = append(b, `,"`+metaEstimated+`":true`...)
	}
	return append(b, '}')
}

// DecodeMetadata reads metadata written by EncodeMetadata (or any JSON object
// with those members). Empty metadata reads as schema version 1: the first
// version of every event carried none.
func DecodeMetadata(data []byte) (Metadata, error) {
	m := Metadata{SchemaVersion: 1}
	if len(bytes.TrimSpace(data)) == 0 {
		return m, nil
	}
	d := decoder{data: data}
	for d.next() {
		switch string(d.key) {
		case metaVersion:
			m.SchemaVersion = d.integer()
		case metaOccurredAt:
			m.OccurredAt = d.timestamp()
		case metaCorrelation:
			m.CorrelationID = d.str()
		case metaCausation:
			m.CausationID = d.str()
		case metaActor:
			m.Actor = d.str()
		case metaEstimated:
			m.Estimated = d.boolean()
		default:
			d.skip()
		}
	}
	return m, d.end()
}

// peekSchemaVersion reads only the schema version: a few bytes for metadata
// EncodeMetadata wrote, a full parse otherwise.
func peekSchemaVersion(data []byte) (int, error) {
	if rest, ok := bytes.CutPrefix(data, []byte(versionPrefix)); ok {
		v, n := 0, 0
		for n < len(rest) && n < 9 && rest[n] >= '0' && rest[n] <= '9' {
			v = v*10 + int(rest[n]-'0')
			n++
		}
		if n > 0 && n < len(rest) && (rest[n] == ',' || rest[n] == '}') {
			return v, nil
		}
	}
	m, err := DecodeMetadata(data)
	return m.SchemaVersion, err
}

// appendJSONString appends s as a JSON string, escaping what JSON requires
// and replacing invalid UTF-8 as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
