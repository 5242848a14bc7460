package channel

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name string
		line string
		from Side
		want string // "" means valid
	}{
		{"report", `{"v":1,"id":1,"type":"report","payload":{"state_status":"blank"}}`, Guest, ""},
		{"error request", `{"v":1,"id":2,"type":"error","payload":{"stage":"mount","message":"x"}}`, Guest, ""},
		{"reply", `{"v":1,"id":1,"re":1,"type":"reply","payload":{}}`, Host, ""},
		{"ack no payload", `{"v":1,"id":1,"re":3,"type":"ack"}`, Host, ""},
		{"null payload", `{"v":1,"id":1,"re":3,"type":"ack","payload":null}`, Host, ""},
		{"bad json", `{"v":1,"id":1,`, Guest, "not a JSON message object"},
		{"not an object", `[1,2]`, Guest, "not a JSON message object"},
		{"trailing", `{"v":1,"id":1,"type":"report"} {}`, Guest, "data after the JSON object"},
		{"unknown field", `{"v":1,"id":1,"type":"report","extra":1}`, Guest, `unknown field "extra"`},
		{"version", `{"v":2,"id":1,"type":"report"}`, Guest, "protocol version 2, this oemact speaks 1"},
		{"no version", `{"id":1,"type":"report"}`, Guest, "protocol version 0"},
		{"unknown type", `{"v":1,"id":1,"type":"format-disk"}`, Guest, `unknown message type "format-disk"`},
		{"guest sends reply", `{"v":1,"id":1,"re":1,"type":"reply"}`, Guest, `the guest may not send "reply"`},
		{"host sends report", `{"v":1,"id":1,"type":"report"}`, Host, `the host may not send "report"`},
		{"response without re", `{"v":1,"id":1,"type":"ack"}`, Host, "answers no request"},
		{"request with re", `{"v":1,"id":1,"re":4,"type":"report"}`, Guest, "is a request but has re=4"},
		{"id zero", `{"v":1,"id":0,"type":"report"}`, Guest, "message id 0"},
		{"negative id", `{"v":1,"id":-1,"type":"report"}`, Guest, "not a JSON message object"},
		{"payload array", `{"v":1,"id":1,"type":"report","payload":[1]}`, Guest, "payload is not a JSON object"},
		{"payload string", `{"v":1,"id":1,"type":"report","payload":"x"}`, Guest, "payload is not a JSON object"},
		{"duplicate type", `{"v":1,"id":1,"type":"report","type":"error"}`, Guest, `duplicate key "type"`},
		{"duplicate id", `{"v":1,"id":1,"id":7,"type":"report"}`, Guest, `duplicate key "id"`},
		{"duplicate in payload", `{"v":1,"id":1,"type":"report","payload":{"state_status":"blank","state_status":"ok"}}`, Guest, `duplicate key "state_status"`},
		{"duplicate escaped", `{"v":1,"id":1,"type":"report","payload":{"a":1,"a":2}}`, Guest, `duplicate key "a"`},
		{"duplicate deep", `{"v":1,"id":1,"type":"report","payload":{"x":[{"k":1},{"k":2,"k":3}]}}`, Guest, `duplicate key "k"`},
		{"same key in sibling objects", `{"v":1,"id":1,"type":"report","payload":{"x":[{"k":1},{"k":2}],"y":{"k":"[{\"k\":1,\"k\":2}]"}}}`, Guest, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Parse([]byte(c.line), c.from, 0)
			if c.want == "" {
				require.NoError(t, err)
				assert.Equal(t, Version, m.V)
				return
			}
			var pe *ProtocolError
			require.True(t, errors.As(err, &pe), "got %v", err)
			assert.Contains(t, err.Error(), c.want)
			assert.Equal(t, c.from, pe.From)
		})
	}
	_, err := Parse([]byte(`{"v":1,"id":1,"type":"report","payload":{"x":"`+strings.Repeat("a", 100)+`"}}`), Guest, 64)
	assert.ErrorIs(t, err, ErrLineTooLong)
}

func TestPayloadDecodeStrict(t *testing.T) {
	m, err := Parse([]byte(`{"v":1,"id":1,"type":"error","payload":{"stage":"mount","message":"no /proc","why":1}}`), Guest, 0)
	require.NoError(t, err)
	_, err = PayloadOf[Error](m)
	assert.ErrorContains(t, err, `unknown field "why"`)

	m, err = Parse([]byte(`{"v":1,"id":1,"re":1,"type":"ack"}`), Host, 0)
	require.NoError(t, err)
	_, err = PayloadOf[Reply](m)
	assert.ErrorContains(t, err, "has no payload")
}

// pipe returns the two ends of an in-memory stream.
func pipe(t *testing.T) (host, guest net.Conn) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestConnCallAndServe(t *testing.T) {
	hc, gc := pipe(t)
	ctx := context.Background()
	var got Report
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, hc, func(ctx context.Context, m *Message) (Type, any, error) {
			switch m.Type {
			case TypeReport:
				r, err := PayloadOf[Report](m)
				if err != nil {
					return "", nil, err
				}
				got = r
				return TypeReply, Reply{State: json.RawMessage(`{"boots":1}`)}, nil
			case TypeError:
				return TypeAck, nil, nil
			}
			return "", nil, errors.New("unexpected")
		}, Options{})
	}()

	g := NewConn(gc, Guest, Options{})
	report := Report{
		ACPITables:  []Blob{{Name: "SLIC", Data: []byte{0, 1, 2, 0xFF}}},
		KernelLog:   []string{"ACPI: RSDT 0x000000007FFE1A3B 000038 (v01 BOCHS  BXPC     00000001 BXPC 00000001)"},
		StateStatus: "blank",
		Devices:     Devices{NICs: []NIC{{Name: "eth0", MAC: "52:54:00:4f:45:01"}}, CPUs: 1},
	}
	resp, err := g.Call(TypeReport, report)
	require.NoError(t, err)
	assert.Equal(t, TypeReply, resp.Type)
	assert.Equal(t, uint64(1), resp.Re)
	reply, err := PayloadOf[Reply](resp)
	require.NoError(t, err)
	assert.JSONEq(t, `{"boots":1}`, string(reply.State))
	assert.Equal(t, report.ACPITables, got.ACPITables)
	assert.Equal(t, report.Devices, got.Devices)

	resp, err = g.Call(TypeError, Error{Stage: "state", Message: "disk gone"})
	require.NoError(t, err)
	assert.Equal(t, TypeAck, resp.Type)
	assert.Equal(t, uint64(2), resp.Re)

	// A handler error comes back as a TypeError response, and the connection goes on.
	resp, err = g.Call(TypeReport, json.RawMessage(`{"unknown_field":true}`))
	var re *RemoteError
	require.True(t, errors.As(err, &re), "got %v", err)
	assert.Contains(t, re.Message, "unknown field")
	assert.Equal(t, TypeError, resp.Type)

	gc.Close()
	require.NoError(t, <-served, "the guest closing the stream ends Serve cleanly")
}

func TestServeRejectsBadGuest(t *testing.T) {
	cases := map[string]struct {
		lines string
		want  string
	}{
		"garbage":       {"hello\n", "line 1 from the guest: not a JSON message object"},
		"second line":   {`{"v":1,"id":1,"type":"error","payload":{"message":"m"}}` + "\n" + `{"v":9,"id":2,"type":"report"}` + "\n", "line 2 from the guest: protocol version 9"},
		"oversize":      {`{"v":1,"id":1,"type":"report","payload":{"notes":["` + strings.Repeat("x", 300) + `"]}}` + "\n", "more than 256 bytes without a newline"},
		"stray reponse": {`{"v":1,"id":1,"re":7,"type":"error","payload":{"message":"m"}}` + "\n", "answers request 7, which the host never sent"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			hc, gc := pipe(t)
			served := make(chan error, 1)
			go func() {
				served <- Serve(context.Background(), hc, func(ctx context.Context, m *Message) (Type, any, error) {
					return TypeAck, nil, nil
				}, Options{MaxLine: 256})
			}()
			go func() {
				// Drain the host's answers so it never blocks on the unbuffered pipe.
				io.Copy(io.Discard, gc)
			}()
			go gc.Write([]byte(c.lines)) // blocks until read; the host may stop reading
			select {
			case err := <-served:
				var pe *ProtocolError
				require.True(t, errors.As(err, &pe), "got %v", err)
				assert.Contains(t, err.Error(), c.want)
			case <-time.After(5 * time.Second):
				t.Fatal("Serve did not reject the guest")
			}
		})
	}
}

type rw struct {
	io.Reader
	io.Writer
}

func TestRecvUnterminatedAndSticky(t *testing.T) {
	c := NewConn(rw{strings.NewReader(`{"v":1,"id":1,"type":"report"}`), io.Discard}, Host, Options{})
	_, err := c.Recv()
	assert.ErrorContains(t, err, "line 1 from the guest: stream ends inside a line")
	_, err2 := c.Recv()
	assert.Equal(t, err, err2, "a broken connection stays broken")

	c = NewConn(rw{strings.NewReader(""), io.Discard}, Host, Options{})
	_, err = c.Recv()
	assert.ErrorIs(t, err, io.EOF)
}

func TestRecvLongLinesWithinLimit(t *testing.T) {
	// Lines longer than the 64 KiB read buffer but under the limit are read whole.
	big := strings.Repeat("A", 200<<10)
	line := `{"v":1,"id":1,"type":"report","payload":{"notes":["` + big + `"]}}` + "\n"
	c := NewConn(rw{strings.NewReader(line + line), io.Discard}, Host, Options{})
	for i := 0; i < 2; i++ {
		m, err := c.Recv()
		require.NoError(t, err)
		r, err := PayloadOf[Report](m)
		require.NoError(t, err)
		assert.Equal(t, big, r.Notes[0])
	}
}

func TestSendChecks(t *testing.T) {
	var out strings.Builder
	g := NewConn(rw{strings.NewReader(""), &out}, Guest, Options{MaxLine: 128})
	_, err := g.Send(TypeReply, Reply{})
	assert.ErrorContains(t, err, `the guest may not send "reply"`)
	_, err = g.Send("nonsense", nil)
	assert.ErrorContains(t, err, "unknown message type")
	_, err = g.Send(TypeReport, Report{Notes: []string{strings.Repeat("x", 200)}})
	assert.ErrorContains(t, err, "over the 128-byte line limit")
	id, err := g.Send(TypeError, Error{Message: "m"})
	require.NoError(t, err)
	assert.Equal(t, `{"v":1,"id":`+itoa(id)+`,"type":"error","payload":{"message":"m"}}`+"\n", out.String())
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func TestListenerAccept(t *testing.T) {
	dir := t.TempDir()
	l, err := Listen(filepath.Join(dir, "c.sock"))
	require.NoError(t, err)
	defer l.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = l.Accept(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	go func() {
		c, err := net.Dial("unix", l.Path())
		if err == nil {
			c.Write([]byte(`{"v":1,"id":1,"type":"report","payload":{"state_status":"absent"}}` + "\n"))
			bufio.NewReader(c).ReadString('\n')
			c.Close()
		}
	}()
	c, err := l.Accept(context.Background())
	require.NoError(t, err)
	var status string
	require.NoError(t, Serve(context.Background(), c, func(ctx context.Context, m *Message) (Type, any, error) {
		r, err := PayloadOf[Report](m)
		status = r.StateStatus
		return TypeReply, Reply{}, err
	}, Options{}))
	assert.Equal(t, "absent", status)
	require.NoError(t, l.Close())
	_, err = os.Stat(filepath.Join(dir, "c.sock"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestFindPort(t *testing.T) {
	sys := t.TempDir()
	for port, name := range map[string]string{"vport0p1": "org.qemu.guest_agent.0", "vport1p1": DefaultPortName} {
		d := filepath.Join(sys, "class", "virtio-ports", port)
		require.NoError(t, os.MkdirAll(d, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(d, "name"), []byte(name+"\n"), 0o644))
	}
	p, err := FindPort(sys, "/dev", DefaultPortName)
	require.NoError(t, err)
	assert.Equal(t, "/dev/vport1p1", p)
	_, err = FindPort(sys, "/dev", "other")
	assert.ErrorContains(t, err, `no virtio-serial port named "other" (ports: vport0p1="org.qemu.guest_agent.0", vport1p1=`)
	_, err = FindPort(t.TempDir(), "/dev", "x")
	assert.ErrorContains(t, err, "is virtio_console loaded")
	_, err = OpenPort(t.TempDir(), "/dev", "x", 30*time.Millisecond)
	assert.ErrorContains(t, err, "waited 30ms")
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"v":1,"id":1,"type":"report","payload":{"acpi_tables":[{"name":"SLIC","data":"AAEC"}],"state_status":"ok"}}`), uint8(Guest))
	f.Add([]byte(`{"v":1,"id":1,"re":1,"type":"reply","payload":{"state":{"a":1}}}`), uint8(Host))
	f.Add([]byte(`{"v":1,"id":3,"type":"error","payload":{"stage":"mount","message":"x"}}`), uint8(Guest))
	f.Add([]byte(`{"v":1,"id":1,"re":1,"type":"ack","payload":null}`), uint8(Host))
	f.Fuzz(func(t *testing.T, line []byte, side uint8) {
		from := Side(side%2 + 1)
		m, err := Parse(line, from, 1<<16)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a ProtocolError: %v", err)
			}
			return
		}
		// What was accepted re-encodes to a line that is accepted again, unchanged.
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := Parse(b, from, 1<<17)
		if err != nil {
			t.Fatalf("re-encoded message rejected: %v\n%s", err, b)
		}
		if m2.ID != m.ID || m2.Re != m.Re || m2.Type != m.Type {
			t.Fatalf("round trip changed the envelope: %+v vs %+v", m, m2)
		}
		// Typed payload decoding never panics either.
		_, _ = PayloadOf[Report](m)
		_, _ = PayloadOf[Reply](m)
		_, _ = PayloadOf[Error](m)
	})
}
