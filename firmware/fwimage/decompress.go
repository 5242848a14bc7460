package fwimage

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz/lzma"
)

// Decompression methods.
const (
	methodLZMA = "lzma" // the "LZMA alone" format: 5 property bytes, a 64-bit size, the stream
	methodLZ4  = "lz4"  // the LZ4 frame format
)

// lzmaHeaderSize is the "LZMA alone" header EDK2 and cbfstool write: properties (1), dictionary
// size (4), uncompressed size (8, all ones when unknown).
const lzmaHeaderSize = 13

// inflate decompresses d.b[start:end] for node n, walks the output with walk and scans it for
// tables. A failure is recorded at start, inside n.
func (w *walker) inflate(d *data, n *Node, start, end int64, method string, want int64, walk func(out *data)) {
	n.Compression = method
	budget, bound := w.lim.Section, "one section's"
	if left := w.lim.Total - w.im.Decompressed; left < budget {
		budget, bound = left, "the image's remaining"
	}
	out, err := decompress(method, d.b[start:end], want, budget)
	if err != nil {
		sentinel := ErrMalformed
		for _, s := range []error{ErrLimit, ErrTruncated} {
			if errors.Is(err, s) {
				sentinel = s
			}
		}
		msg := err.Error()
		if sentinel == ErrLimit {
			msg = fmt.Sprintf("%s (%s bound is %d bytes): a decompression bomb or a corrupt size; not walked", msg, bound, budget)
		}
		w.fail(d, start, n, sentinel, "%s", msg)
		return
	}
	w.im.Decompressed += int64(len(out))
	n.Decompressed = int64(len(out))
	nd := &data{b: out, origin: n, fileOff: start}
	if d.origin != nil {
		nd.fileOff = d.fileOff
	}
	if walk != nil {
		walk(nd)
	}
	w.scan(nd)
}

// decompress undoes method on src. want is the size the container declares (-1: not declared);
// the output may not exceed limit bytes.
func decompress(method string, src []byte, want, limit int64) ([]byte, error) {
	if want > limit {
		return nil, fmt.Errorf("%s data declares %d bytes decompressed: %w", method, want, ErrLimit)
	}
	switch method {
	case methodLZMA:
		if len(src) < lzmaHeaderSize {
			return nil, fmt.Errorf("LZMA data of %d bytes is shorter than its %d-byte header: %w", len(src), lzmaHeaderSize, ErrTruncated)
		}
		size := int64(le.Uint64(src[5:]))
		if size > limit {
			return nil, fmt.Errorf("the LZMA header declares %d bytes decompressed: %w", size, ErrLimit)
		}
		if want >= 0 && size >= 0 && size != want {
			return nil, fmt.Errorf("the LZMA header declares %d bytes decompressed, its container %d: %w", size, want, ErrMalformed)
		}
		if size >= 0 {
			want = size
		}
		// The dictionary is allocated from the header's size: bound it like the output.
		dictCap := max(limit, lzma.MinDictCap)
		r, err := lzma.ReaderConfig{DictCap: int(min(dictCap, lzma.MaxDictCap))}.NewReader(bytes.NewReader(src))
		if err != nil {
			var de *lzma.ErrDictSize
			if errors.As(err, &de) {
				return nil, fmt.Errorf("the LZMA header asks for a %d-byte dictionary: %w", de.HeaderDictSize, ErrLimit)
			}
			return nil, fmt.Errorf("LZMA header: %v: %w", err, ErrMalformed)
		}
		return readBounded(r, "LZMA", want, limit)
	case methodLZ4:
		return readBounded(lz4.NewReader(bytes.NewReader(src)), "LZ4", want, limit)
	}
	return nil, fmt.Errorf("compression %q: %w", method, ErrUnsupported)
}

// readBounded reads r to its end: exactly want bytes when want >= 0, at most limit bytes.
func readBounded(r io.Reader, what string, want, limit int64) ([]byte, error) {
	if want >= 0 {
		out := make([]byte, want)
		if n, err := io.ReadFull(r, out); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%s data ends after %d of the %d bytes declared: %w", what, n, want, ErrTruncated)
			}
			return nil, fmt.Errorf("%s data is corrupt after %d of the %d bytes declared: %v: %w", what, n, want, err, ErrMalformed)
		}
		var one [1]byte
		if n, _ := r.Read(one[:]); n > 0 {
			return nil, fmt.Errorf("%s data decompresses to more than the %d bytes declared: %w", what, want, ErrMalformed)
		}
		return out, nil
	}
	out, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s data after %d bytes decompressed: %v: %w", what, len(out), err, ErrMalformed)
	}
	if int64(len(out)) > limit {
		return nil, fmt.Errorf("%s data decompresses to more than %d bytes: %w", what, limit, ErrLimit)
	}
	return out, nil
}
