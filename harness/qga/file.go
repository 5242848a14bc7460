package qga

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
)

// ReadChunk is the count ReadFile asks for in one guest-file-read (qemu-ga's default is 4096
// bytes; it refuses counts over 48 MiB).
const ReadChunk = 64 << 10

// chunkResponse bounds the answer to a guest-file-read of n bytes: base64 and the JSON around it.
func chunkResponse(n int) int { return base64.StdEncoding.EncodedLen(n) + 1024 }

// OpenFile opens a file in the guest (guest-file-open; mode as fopen's: "r", "rb", "w"...) and
// returns the agent's handle.
func (c *Client) OpenFile(ctx context.Context, path, mode string) (int64, error) {
	var h int64
	err := c.call(ctx, "guest-file-open", path, map[string]string{"path": path, "mode": mode}, &h, 0)
	return h, err
}

// CloseFile closes a handle OpenFile returned.
func (c *Client) CloseFile(ctx context.Context, handle int64) error {
	return c.call(ctx, "guest-file-close", "handle "+strconv.FormatInt(handle, 10), map[string]int64{"handle": handle}, nil, 0)
}

// Read reads up to count bytes (at most ReadChunk) from a handle.
func (c *Client) Read(ctx context.Context, handle int64, count int) (data []byte, eof bool, err error) {
	target := "handle " + strconv.FormatInt(handle, 10)
	if count <= 0 || count > ReadChunk {
		return nil, false, &Error{Command: "guest-file-read", Target: target, Err: fmt.Errorf("count %d: want 1 to %d", count, ReadChunk)}
	}
	var out struct {
		Count *int   `json:"count"`
		Buf   string `json:"buf-b64"`
		EOF   bool   `json:"eof"`
	}
	if err := c.call(ctx, "guest-file-read", target, map[string]int64{"handle": handle, "count": int64(count)}, &out, chunkResponse(count)); err != nil {
		return nil, false, err
	}
	bad := func(format string, args ...any) error {
		return &Error{Command: "guest-file-read", Target: target, Err: fmt.Errorf(format, args...)}
	}
	if out.Count == nil {
		return nil, false, bad("the answer has no count")
	}
	data, err = base64.StdEncoding.DecodeString(out.Buf)
	switch {
	case err != nil:
		return nil, false, bad("buf-b64 is not base64: %v", err)
	case len(data) != *out.Count:
		return nil, false, bad("the answer says %d bytes but carries %d", *out.Count, len(data))
	case len(data) > count:
		return nil, false, bad("asked for %d bytes, got %d", count, len(data))
	}
	return data, out.EOF, nil
}

// ReadFile reads a whole file from the guest: open, read in ReadChunk pieces, close. A file
// longer than max bytes is an error (and is not read further).
func (c *Client) ReadFile(ctx context.Context, path string, max int) ([]byte, error) {
	h, err := c.OpenFile(ctx, path, "r")
	if err != nil {
		return nil, err
	}
	data, rerr := c.readAll(ctx, path, h, max)
	cerr := c.CloseFile(ctx, h)
	if rerr != nil {
		return nil, rerr
	}
	if cerr != nil {
		return nil, cerr
	}
	return data, nil
}

func (c *Client) readAll(ctx context.Context, path string, h int64, max int) ([]byte, error) {
	var data []byte
	for {
		// One byte more than the bound tells a file of exactly max bytes from a longer one.
		n := min(ReadChunk, max+1-len(data))
		b, eof, err := c.Read(ctx, h, n)
		if err != nil {
			if e, ok := err.(*Error); ok {
				e.Target = path
			}
			return nil, err
		}
		data = append(data, b...)
		if len(data) > max {
			return nil, &Error{Command: "guest-file-read", Target: path, Err: fmt.Errorf("the file is longer than %d bytes, the bound for it", max)}
		}
		// A read of nothing ends the file even when the agent does not say eof: sysfs files
		// report no end until a read comes back empty.
		if eof || len(b) == 0 {
			return data, nil
		}
	}
}
