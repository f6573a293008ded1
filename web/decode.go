package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/continuum-care/continuum/domain"
)

// MaxBodyBytes bounds a command's body: the largest legitimate command (a
// referral with personal data) is well under a kilobyte, so anything near
// this is a mistake or an attack, and it never reaches the JSON decoder.
const MaxBodyBytes = 64 << 10

// decodeCommand reads a command body strictly: application/json only, at
// most MaxBodyBytes, valid UTF-8, one JSON object whose fields are all
// known to dst, nothing after it.
func decodeCommand(w http.ResponseWriter, r *http.Request, dst any) error {
	if err := checkJSONContentType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &requestError{kind: errTooLarge, code: "request_too_large",
				message: "the request body is larger than " + strconv.Itoa(MaxBodyBytes) + " bytes"}
		}
		return badRequest("bad_body", "", "the request body could not be read")
	}
	// encoding/json silently replaces invalid UTF-8 with U+FFFD, which
	// would store something other than what the client sent.
	if !utf8.Valid(body) {
		return badRequest("invalid_utf8", "", "the request body is not valid UTF-8")
	}
	// It does the same with an escaped lone UTF-16 surrogate ("\ud800").
	if at := loneSurrogate(body); at >= 0 {
		field := fieldAt(body, at)
		what := "the request body"
		if field != "" {
			what = field
		}
		return badRequest("invalid_utf8", field, what+" escapes a lone UTF-16 surrogate, which is no character")
	}
	// A command is one JSON object; encoding/json would take null (and
	// leave dst empty) as if it were {}.
	if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || trimmed[0] != '{' {
		return badRequest("malformed_json", "", "the request body must hold exactly one JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("malformed_json", "", "the request body must hold exactly one JSON object")
	}
	return nil
}

// checkJSONContentType accepts application/json with an optional UTF-8 charset.
func checkJSONContentType(header string) error {
	unsupported := &requestError{kind: errUnsupportedMediaType, code: "unsupported_media_type",
		message: "send the body as application/json"}
	if header == "" {
		return unsupported
	}
	mediaType, params, err := mime.ParseMediaType(header)
	if err != nil || mediaType != "application/json" {
		return unsupported
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return unsupported
	}
	return nil
}

// jsonError turns a decoding failure into a 400 that names the field when
// the decoder knows it, without echoing the offending value.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var invalid *domain.InvalidError
	switch {
	case errors.As(err, &invalid):
		// A domain value's own parser refused it (an unknown enum name);
		// the decoder does not say which member held it.
		return badRequest(invalidInput, "", invalid.Reason)
	case errors.Is(err, io.EOF):
		return badRequest("malformed_json", "", "the request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed_json", "", "the request body ends in the middle of its JSON")
	case errors.As(err, &syntax):
		return badRequest("malformed_json", "", "the request body is not valid JSON (at byte "+strconv.FormatInt(syntax.Offset, 10)+")")
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return badRequest("malformed_json", "", "the request body must be a JSON object")
		}
		return badRequest(invalidInput, typeErr.Field, typeErr.Field+" must be "+jsonKind(typeErr.Type.Kind().String()))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field, uerr := strconv.Unquote(name)
		if uerr != nil {
			field = ""
		}
		return badRequest("unknown_field", field, "unknown field "+strconv.Quote(field))
	}
	return badRequest("malformed_json", "", "the request body is not valid JSON")
}

// jsonKind names a Go kind in JSON's terms for an error message.
func jsonKind(kind string) string {
	switch {
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "true or false"
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "a whole number"
	case strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "slice", kind == "array":
		return "an array"
	}
	return "an object"
}

// invalidInput is the code of a field that does not parse; it matches the
// domain's, so clients handle both the same way.
const invalidInput = "invalid_input"

// fieldParser collects the first parse failure of a request's fields, so a
// handler parses every field in a row and checks once.
type fieldParser struct {
	err error
}

// fail records a refusal of field, keeping the first one.
func (p *fieldParser) fail(field, reason string) {
	if p.err == nil {
		p.err = badRequest(invalidInput, field, reason)
	}
}

// required refuses an empty field.
func (p *fieldParser) required(field, value string) bool {
	if value == "" {
		p.fail(field, field+" is required")
		return false
	}
	return true
}

// parseWith parses a required field with a domain parse function, naming
// the JSON field in the refusal (the domain names only its own kinds).
func parseWith[T any](p *fieldParser, field, value string, parse func(string) (T, error)) T {
	var zero T
	if !p.required(field, value) {
		return zero
	}
	v, err := parse(value)
	if err != nil {
		p.fail(field, reasonOf(err))
		return zero
	}
	return v
}

// optionalWith parses a field that may be empty, answering the zero value then.
func optionalWith[T any](p *fieldParser, field, value string, parse func(string) (T, error)) T {
	var zero T
	if value == "" {
		return zero
	}
	return parseWith(p, field, value, parse)
}

// clinicalTime parses the optional occurredAt field (RFC 3339). An empty
// value is the zero time, which the domain reads as "now".
func (p *fieldParser) clinicalTime(value string) time.Time {
	return optionalWith(p, "occurredAt", value, func(s string) (time.Time, error) {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, errors.New("occurredAt must be an RFC 3339 time, e.g. 2026-03-02T10:00:00Z")
		}
		return t, nil
	})
}

// reasonOf extracts the human reason of a parse failure: the domain's
// InvalidError carries it apart from its field name.
func reasonOf(err error) string {
	var invalid *domain.InvalidError
	if errors.As(err, &invalid) {
		return invalid.Reason
	}
	return err.Error()
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"internal","message":"internal error; the incident was logged"}}`)
	}
	writeRawJSON(w, status, body)
}

// writeRawJSON answers already-encoded JSON, so views rendered once are
// served without a second encoding.
func writeRawJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body)
	w.Write([]byte{'\n'})
}

// loneSurrogate answers the offset of the first escape of a UTF-16
// surrogate that is not half of a pair (\uD800-\uDBFF followed by
// \uDC00-\uDFFF), or -1. Backslashes occur only inside strings, so a scan
// of escapes suffices; a body without one is passed over at memchr speed.
func loneSurrogate(b []byte) int {
	first := bytes.IndexByte(b, '\\')
	if first < 0 {
		return -1
	}
	for i := first; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		if b[i+1] != 'u' {
			i++ // an escaped character, perhaps a backslash
			continue
		}
		r, ok := hex4(b[i+2:])
		switch {
		case !ok:
			return -1 // malformed: the JSON decoder will say so
		case r >= 0xDC00 && r <= 0xDFFF:
			return i
		case r >= 0xD800 && r <= 0xDBFF:
			if i+11 >= len(b) || b[i+6] != '\\' || b[i+7] != 'u' {
				return i
			}
			low, ok := hex4(b[i+8:])
			if !ok || low < 0xDC00 || low > 0xDFFF {
				return i
			}
			i += 11
		default:
			i += 5
		}
	}
	return -1
}

// fieldAt names the member of a JSON text whose string value holds byte
// offset at, as a path ("name", "slots[0].day"), or "" when the text does
// not parse that far or the offset is in a member's name (then the
// enclosing member is named, "" at the top). It decodes the text again, so
// it is for refusals only.
func fieldAt(b []byte, at int) string {
	type level struct {
		array   bool
		index   int    // of the next element, in an array
		key     string // of the current member, in an object
		wantKey bool
	}
	var stack []level
	name := func(depth int) string {
		var sb strings.Builder
		for _, l := range stack[:depth] {
			if l.array {
				sb.WriteString("[" + strconv.Itoa(l.index) + "]")
				continue
			}
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			sb.WriteString(l.key)
		}
		return sb.String()
	}
	// done moves the innermost level past the value just read.
	done := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].array {
				stack[n-1].index++
			} else {
				stack[n-1].wantKey = true
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		holds := int64(at) >= start && int64(at) < dec.InputOffset()
		if n := len(stack); n > 0 && !stack[n-1].array && stack[n-1].wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:n-1]
				done()
				continue
			}
			if holds {
				return name(n - 1)
			}
			stack[n-1].key, _ = tok.(string)
			stack[n-1].wantKey = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, level{wantKey: true})
		case json.Delim('['):
			stack = append(stack, level{array: true})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			done()
		default:
			if holds {
				return name(len(stack))
			}
			done()
		}
	}
}

// hex4 reads four hex digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return r, true
}
