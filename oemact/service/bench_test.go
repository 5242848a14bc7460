package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/service"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/oemact/oemact/oemact/service/client"
)

// BenchmarkLoad measures durable activations per second at 1, 8 and 64 concurrent clients
// against the real server (loopback HTTP, a SQLite file on disk, WAL, synchronous=FULL: each
// answer waits for its commit), and side by side a plain net/http handler that decodes the same
// JSON and answers without storing, on the same box: the denominator. Every request is a first
// activation of a distinct machine on one MAK, so every answer is a new durable binding.
//
//	go test -run '^$' -bench BenchmarkLoad ./oemact/service/   (or: make bench-service)
//
// The plain handler's rate is reported as requests/s, the service's as activations/s with the
// decisions per commit and the time per commit, and the service/plain ratio in the plain row.
func BenchmarkLoad(b *testing.B) {
	for _, clients := range []int{1, 8, 64} {
		var service float64
		b.Run(fmt.Sprintf("service/clients=%d", clients), func(b *testing.B) {
			service = benchService(b, clients)
		})
		b.Run(fmt.Sprintf("plain/clients=%d", clients), func(b *testing.B) {
			plain := benchPlain(b, clients)
			if service > 0 {
				b.ReportMetric(service/plain, "ratio") // against the service run just before
			}
		})
	}
}

// bodies makes the activation requests: distinct machines, with digests made cheaply so the
// load generator spends its time on HTTP, like the plain handler's.
type bodies struct {
	key  string
	next atomic.Uint64
}

func (g *bodies) body(buf []byte) []byte {
	n := g.next.Add(1)
	buf = append(buf[:0], `{"key":"`...)
	buf = append(buf, g.key...)
	buf = append(buf, `","hardware":{"components":[`...)
	for i, c := range []hwid.Class{hwid.NIC, hwid.Disk, hwid.Memory, hwid.CPU, hwid.Display, hwid.StorageController, hwid.System, hwid.BIOS} {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"class":"`...)
		buf = append(buf, c...)
		buf = append(buf, `","digest":"`...)
		d := strconv.AppendUint(nil, (n*0x9E3779B97F4A7C15+uint64(i)*0xBF58476D1CE4E5B9)|1<<63, 16)
		buf = append(buf, d...)
		buf = append(buf, `"}`...)
	}
	return append(buf, `]}}`...)
}

// drive sends b.N requests from clients goroutines over keep-alive connections and returns the
// rate of 200 answers.
func drive(b *testing.B, url string, clients int, g *bodies) float64 {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: time.Minute}
	var left atomic.Int64
	left.Store(int64(b.N))
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	b.StartTimer()
	start := time.Now()
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 1024)
			for left.Add(-1) >= 0 {
				buf = g.body(buf)
				resp, err := hc.Post(url+api.PathActivate, api.ContentTypeJSON, bytes.NewReader(buf))
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d requests failed", f, b.N)
	}
	return float64(b.N) / elapsed.Seconds()
}

func benchService(b *testing.B, clients int) float64 {
	b.StopTimer()
	db := filepath.Join(b.TempDir(), "bench.db")
	srv, err := service.Open(context.Background(), service.Config{DBPath: db, AdminToken: "bench-admin-token",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	label := "mak/bench/win7-enterprise"
	k := productkey.Derive(label)
	admin := client.NewInProcess(srv.Handler(), "", client.WithAdminToken("bench-admin-token"))
	if _, err := admin.AddKey(context.Background(), api.AddKeyRequest{Label: label, Key: k.Reveal(), Channel: "Volume:MAK",
		Edition: "win7-enterprise", MAKLimit: 1 << 30}); err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	commits, ops, ft := srv.Store().Commits(), srv.Store().Ops(), srv.Store().FlushTime()
	rate := drive(b, hs.URL, clients, &bodies{key: k.Reveal()})
	b.ReportMetric(rate, "activations/s")
	if c := srv.Store().Commits() - commits; c > 0 {
		b.ReportMetric(float64(srv.Store().Ops()-ops)/float64(c), "decisions/commit")
		b.ReportMetric(float64(srv.Store().FlushTime()-ft)/float64(c)/1e6, "ms/commit")
	}
	return rate
}

// plainHandler decodes the activation request as strictly as the service and answers without
// storing anything.
func plainHandler(w http.ResponseWriter, r *http.Request) {
	var req api.ActivateRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, api.MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		http.Error(w, "trailing data", 400)
		return
	}
	w.Header().Set("Content-Type", api.ContentTypeJSON)
	json.NewEncoder(w).Encode(api.ActivateResponse{Result: api.ResultActivated, Message: "not stored", Channel: "Volume:MAK", Edition: "win7-enterprise"})
}

func benchPlain(b *testing.B, clients int) float64 {
	b.StopTimer()
	hs := httptest.NewServer(http.HandlerFunc(plainHandler))
	defer hs.Close()
	rate := drive(b, hs.URL, clients, &bodies{key: productkey.Derive("plain").Reveal()})
	b.ReportMetric(rate, "requests/s")
	return rate
}
