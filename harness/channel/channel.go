// Package channel is the protocol between the host and the guest agent: one JSON object per line,
// with a protocol version, a message type, an id, and for responses the id they answer.
//
// The guest is untrusted input: lines longer than the limit, bad JSON, unknown fields or message
// types, a wrong version or a message the guest may not send are rejected with an error naming the
// line and the problem. The payload kinds are in messages.go; transport (a unix socket on the host,
// a virtio-serial port in the guest) is in host.go and guest.go.
package channel

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Version is the protocol version every message carries. A change that an older peer would
// misread bumps it; both sides come from the same oemact binary, so they always agree unless a
// stale initramfs is booted.
const Version = 1

// DefaultMaxLine is the longest line (bytes, newline excluded) either side accepts: 4 MiB. A report
// carries every ACPI table in base64; a QEMU q35 guest's tables total about 20 KB and large real
// DSDTs reach a few hundred KB, so this leaves room while bounding what a guest can make the host
// buffer.
const DefaultMaxLine = 4 << 20

// Side is one end of the channel.
type Side int

const (
	Host Side = iota + 1
	Guest
)

func (s Side) String() string {
	switch s {
	case Host:
		return "host"
	case Guest:
		return "guest"
	}
	return fmt.Sprintf("side(%d)", int(s))
}

// Message is one line on the channel.
type Message struct {
	V       int             `json:"v"`
	ID      uint64          `json:"id"`
	Re      uint64          `json:"re,omitempty"` // for a response: the id of the request
	Type    Type            `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Decode unmarshals the payload into v, rejecting fields v does not have: the peer may be a
// guest, and a field nobody reads is a sign of a version mismatch or tampering.
func (m *Message) Decode(v any) error {
	if len(m.Payload) == 0 {
		return fmt.Errorf("channel: %s message %d has no payload", m.Type, m.ID)
	}
	d := json.NewDecoder(bytes.NewReader(m.Payload))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("channel: %s message %d: payload: %w", m.Type, m.ID, err)
	}
	if d.More() {
		return fmt.Errorf("channel: %s message %d: payload has data after the object", m.Type, m.ID)
	}
	return nil
}

// PayloadOf decodes a message's payload as a T.
func PayloadOf[T any](m *Message) (T, error) {
	var v T
	err := m.Decode(&v)
	return v, err
}

// ProtocolError says what is wrong with a line the peer sent.
type ProtocolError struct {
	From Side
	Line int // 1-based line number on this connection
	Msg  string
	Err  error
}

func (e *ProtocolError) Error() string {
	s := fmt.Sprintf("channel: line %d from the %s: %s", e.Line, e.From, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *ProtocolError) Unwrap() error { return e.Err }

// ErrLineTooLong is wrapped by the ProtocolError for a line over the limit.
var ErrLineTooLong = errors.New("line too long")

// Parse decodes and validates one line (without its newline) sent by from.
func Parse(line []byte, from Side, maxLine int) (*Message, error) {
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	if len(line) > maxLine {
		return nil, &ProtocolError{From: from, Msg: fmt.Sprintf("%d bytes, over the %d-byte limit", len(line), maxLine), Err: ErrLineTooLong}
	}
	d := json.NewDecoder(bytes.NewReader(line))
	d.DisallowUnknownFields()
	var m Message
	if err := d.Decode(&m); err != nil {
		return nil, &ProtocolError{From: from, Msg: "not a JSON message object", Err: err}
	}
	if d.More() {
		return nil, &ProtocolError{From: from, Msg: "data after the JSON object"}
	}
	// encoding/json keeps the last of two equal keys: a peer could show one value to a reader
	// that keeps the first and another to this one.
	if k, dup := duplicateKey(line); dup {
		return nil, &ProtocolError{From: from, Msg: fmt.Sprintf("duplicate key %q in a JSON object", k)}
	}
	if m.V != Version {
		return nil, &ProtocolError{From: from, Msg: fmt.Sprintf("protocol version %d, this oemact speaks %d (is the initramfs from another oemact build?)", m.V, Version)}
	}
	info, ok := types[m.Type]
	if !ok {
		return nil, &ProtocolError{From: from, Msg: fmt.Sprintf("unknown message type %q", m.Type)}
	}
	if m.ID == 0 {
		return nil, &ProtocolError{From: from, Msg: "message id 0 (ids start at 1)"}
	}
	if why := info.check(m.Type, from, m.Re); why != "" {
		return nil, &ProtocolError{From: from, Msg: why}
	}
	if p := bytes.TrimSpace(m.Payload); len(p) > 0 && !bytes.Equal(p, []byte("null")) && p[0] != '{' {
		return nil, &ProtocolError{From: from, Msg: "payload is not a JSON object"}
	}
	if bytes.Equal(bytes.TrimSpace(m.Payload), []byte("null")) {
		m.Payload = nil
	}
	return &m, nil
}

// Options tune a Conn.
type Options struct {
	MaxLine int // default DefaultMaxLine
}

// Conn is one end of a channel over a byte stream. Sends are safe from several goroutines;
// receives are not.
type Conn struct {
	rw     io.ReadWriter
	r      *bufio.Reader
	local  Side
	max    int
	line   int
	broken error

	wmu    sync.Mutex
	nextID uint64
}

// NewConn wraps a stream. local is the side this process plays; messages read are checked as
// coming from the other side.
func NewConn(rw io.ReadWriter, local Side, o Options) *Conn {
	if o.MaxLine <= 0 {
		o.MaxLine = DefaultMaxLine
	}
	return &Conn{rw: rw, r: bufio.NewReaderSize(rw, 64<<10), local: local, max: o.MaxLine}
}

func (c *Conn) peer() Side {
	if c.local == Host {
		return Guest
	}
	return Host
}

// Recv reads the next message. After a protocol error the connection is unusable: the stream
// can no longer be trusted to be in step, so every later Recv returns the same error.
func (c *Conn) Recv() (*Message, error) {
	if c.broken != nil {
		return nil, c.broken
	}
	line, err := c.readLine()
	if err != nil {
		c.broken = err
		return nil, err
	}
	m, err := Parse(line, c.peer(), c.max)
	if err != nil {
		var pe *ProtocolError
		if errors.As(err, &pe) {
			pe.Line = c.line
		}
		c.broken = err
		return nil, err
	}
	return m, nil
}

// readLine reads one line without buffering more than the limit.
func (c *Conn) readLine() ([]byte, error) {
	var buf []byte
	for {
		chunk, err := c.r.ReadSlice('\n')
		if len(buf)+len(chunk) > c.max+1 {
			c.line++
			return nil, &ProtocolError{From: c.peer(), Line: c.line, Msg: fmt.Sprintf("more than %d bytes without a newline", c.max), Err: ErrLineTooLong}
		}
		buf = append(buf, chunk...)
		switch {
		case err == nil:
			c.line++
			return bytes.TrimSuffix(bytes.TrimSuffix(buf, []byte("\n")), []byte("\r")), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(buf) > 0:
			c.line++
			return nil, &ProtocolError{From: c.peer(), Line: c.line, Msg: fmt.Sprintf("stream ends inside a line (%d bytes, no newline)", len(buf)), Err: io.ErrUnexpectedEOF}
		default:
			return nil, err
		}
	}
}

// Send sends a request and returns its id.
func (c *Conn) Send(t Type, payload any) (uint64, error) {
	return c.send(t, 0, payload)
}

// Reply answers the request req.
func (c *Conn) Reply(req *Message, t Type, payload any) error {
	_, err := c.send(t, req.ID, payload)
	return err
}

func (c *Conn) send(t Type, re uint64, payload any) (uint64, error) {
	info, ok := types[t]
	if !ok {
		return 0, fmt.Errorf("channel: sending unknown message type %q", t)
	}
	if why := info.check(t, c.local, re); why != "" {
		return 0, errors.New("channel: sending: " + why)
	}
	var raw json.RawMessage
	if payload != nil {
		b, err := json.Marshal(payload)
		if err != nil {
			return 0, fmt.Errorf("channel: encoding %s payload: %w", t, err)
		}
		raw = b
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.nextID++
	m := Message{V: Version, ID: c.nextID, Re: re, Type: t, Payload: raw}
	b, err := json.Marshal(m)
	if err != nil {
		return 0, err
	}
	if len(b) > c.max {
		return 0, fmt.Errorf("channel: %s message of %d bytes is over the %d-byte line limit", t, len(b), c.max)
	}
	if _, err := c.rw.Write(append(b, '\n')); err != nil {
		return 0, fmt.Errorf("channel: sending %s: %w", t, err)
	}
	return m.ID, nil
}

// Call sends a request and waits for its response. A response to another request, or a request
// from the peer, is a protocol error here: the guest agent asks one thing at a time.
func (c *Conn) Call(t Type, payload any) (*Message, error) {
	id, err := c.Send(t, payload)
	if err != nil {
		return nil, err
	}
	return c.Await(t, id)
}

// Await waits for the response to the request of type t that Send numbered id, with Call's
// rules: the next message must be that response, and an error response is a *RemoteError. A
// caller that has other work to do sends, works, then awaits.
func (c *Conn) Await(t Type, id uint64) (*Message, error) {
	m, err := c.Recv()
	if err != nil {
		return nil, err
	}
	if m.Re != id {
		c.broken = &ProtocolError{From: c.peer(), Line: c.line, Msg: fmt.Sprintf("expected the response to %s %d, got %s %d (re=%d)", t, id, m.Type, m.ID, m.Re)}
		return nil, c.broken
	}
	if m.Type == TypeError {
		e, err := PayloadOf[Error](m)
		if err != nil {
			return nil, err
		}
		return m, &RemoteError{Type: t, Message: e.Message}
	}
	return m, nil
}

// RemoteError is the peer's refusal of a request.
type RemoteError struct {
	Type    Type
	Message string
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("channel: the peer refused %s: %s", e.Type, e.Message)
}

// duplicateKey reports the first key that occurs twice in one object of b, at any depth. b is
// valid JSON (it decoded). Keys are compared unescaped ("a" and "\u0061" are the same key).
func duplicateKey(b []byte) (string, bool) {
	type frame struct {
		object, wantKey bool
		keys            []string
	}
	var stack []frame
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '{':
			stack = append(stack, frame{object: true, wantKey: true})
		case '[':
			stack = append(stack, frame{})
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if n := len(stack); n > 0 && stack[n-1].object {
				stack[n-1].wantKey = true
			}
		case '"':
			j, escaped := i+1, false
			for ; j < len(b) && b[j] != '"'; j++ {
				if b[j] == '\\' {
					escaped = true
					j++
				}
			}
			n := len(stack)
			if n > 0 && stack[n-1].object && stack[n-1].wantKey && j < len(b) {
				key := string(b[i+1 : j])
				if escaped {
					if err := json.Unmarshal(b[i:j+1], &key); err != nil {
						return "", false
					}
				}
				f := &stack[n-1]
				for _, k := range f.keys {
					if k == key {
						return key, true
					}
				}
				f.keys = append(f.keys, key)
				f.wantKey = false
			}
			i = j
		}
	}
	return "", false
}
