package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/live"
)

// Benchmark of the live mechanism (trading/live; issues 15 and 16):
//
//	go test -run '^$' -bench 'Live$' -benchtime 1x -timeout 30m ./cmd/ggzy/
//
// BENCH_WATCHERS (default 1,000) Server-Sent-Events watchers of one topic,
// spread over BENCH_INSTANCES (1 or 2) instances, each its own connection
// pool, hub and HTTP server on one database; a publisher commits
// BENCH_RATE events a second (default 20) for BENCH_SECONDS (default 20)
// through the first instance. The watchers run in a child process (this
// test binary again, BenchmarkLiveWatchers), so that the server's heap is
// measured alone; they reconnect with Last-Event-ID like EventSource when
// a stream ends. Reported: delivery latency (the publisher's commit call →
// the watcher's receipt) p50/p99/max over every (watcher, event), events
// missed or repeated, the server's heap and goroutines per watcher, the
// publisher's ack latency (begin → commit returned), and `pgbench -N` on
// the same cluster right after. Results: BENCHMARKS.md.
func BenchmarkLive(b *testing.B) {
	n, rate, secs, insts := envN("BENCH_WATCHERS", 1000), envN("BENCH_RATE", 20), envN("BENCH_SECONDS", 20), envN("BENCH_INSTANCES", 1)
	b.StopTimer()
	url := testenv.DatabaseURL(b)
	const topic = "bench/lot"
	var urls []string
	var pub *gorm.DB
	for i := 0; i < insts; i++ {
		db, err := trading.OpenDB(url)
		if err != nil {
			b.Fatal(err)
		}
		hub := live.NewHub(db, url, live.Options{})
		hub.Start(context.Background())
		e := echo.New()
		e.GET("/live/:lot", hub.Stream(func(c echo.Context) (string, error) { return "bench/" + c.Param("lot"), nil }))
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: e}
		go srv.Serve(ln)
		b.Cleanup(func() { hub.Close(); srv.Close(); sqlClose(db) })
		urls = append(urls, "http://"+ln.Addr().String()+"/live/lot")
		if pub == nil {
			pub = db
		}
	}
	publishOne := func(i int) (int64, time.Time, time.Duration, error) {
		t0 := time.Now()
		tx := pub.Begin()
		seq, err := live.Publish(context.Background(), tx, topic, "quote", map[string]any{
			"n": i, "code": fmt.Sprintf("A%03d", i%100), "price": fmt.Sprintf("%d.00", 12_000_000+i*10_000), "countdown": 240})
		if err != nil {
			tx.Rollback()
			return 0, t0, 0, err
		}
		tc := time.Now()
		if err := tx.Commit().Error; err != nil {
			return 0, t0, 0, err
		}
		return seq, tc, time.Since(t0), nil
	}
	if _, _, _, err := publishOne(0); err != nil { // the topic exists before anyone watches
		b.Fatal(err)
	}

	time.Sleep(time.Second)
	runtime.GC()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()

	out := b.TempDir() + "/receipts"
	child := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkLiveWatchers$", "-test.benchtime=1x", "-test.timeout=30m")
	child.Env = append(os.Environ(), "GGZY_LIVE_WATCH="+strings.Join(urls, ","), "GGZY_LIVE_WATCHERS="+strconv.Itoa(n), "GGZY_LIVE_OUT="+out)
	stdin, _ := child.StdinPipe()
	stdout, _ := child.StdoutPipe()
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		b.Fatal(err)
	}
	defer child.Process.Kill()
	lines := bufio.NewScanner(stdout)
	waitLine := func(prefix string) string {
		for lines.Scan() {
			if strings.HasPrefix(lines.Text(), prefix) {
				return lines.Text()
			}
		}
		b.Fatalf("watcher process ended before %s", prefix)
		return ""
	}
	connectT0 := time.Now()
	waitLine("LIVE-READY")
	connectTook := time.Since(connectT0)

	time.Sleep(time.Second) // let the handshakes' garbage go
	runtime.GC()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	g1 := runtime.NumGoroutine()
	heapPer := (float64(after.HeapInuse+after.StackInuse) - float64(before.HeapInuse+before.StackInuse)) / float64(n)

	// Publish at a steady rate; each publication in its own goroutine so
	// that a slow commit does not slow the rate.
	var mu sync.Mutex
	commits := map[int64]time.Time{}
	var acks []time.Duration
	var lastSeq atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	total := rate * secs
	tick := time.NewTicker(time.Second / time.Duration(rate))
	peak := sampleHeap(100 * time.Millisecond)
	cpu0 := cpuTime()
	b.StartTimer()
	for i := 1; i <= total; i++ {
		<-tick.C
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			seq, tc, ack, err := publishOne(i)
			if err != nil {
				b.Error(err)
				return
			}
			mu.Lock()
			commits[seq], acks = tc, append(acks, ack)
			mu.Unlock()
			for {
				l := lastSeq.Load()
				if seq <= l || lastSeq.CompareAndSwap(l, seq) {
					break
				}
			}
		}(i)
	}
	tick.Stop()
	wg.Wait()
	b.StopTimer()
	fmt.Fprintf(stdin, "DONE %d\n", lastSeq.Load())
	summary := waitLine("LIVE-DONE")
	serverCPU := cpuTime() - cpu0
	peakHeap := peak()
	if err := child.Wait(); err != nil {
		b.Fatalf("watcher process: %v", err)
	}

	raw, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	type key struct{ w, seq int64 }
	seen := make(map[key]bool, len(raw)/24)
	repeats := 0
	for off := 0; off+24 <= len(raw); off += 24 {
		w := int64(binary.LittleEndian.Uint64(raw[off:]))
		seq := int64(binary.LittleEndian.Uint64(raw[off+8:]))
		at := int64(binary.LittleEndian.Uint64(raw[off+16:]))
		if seen[key{w, seq}] {
			repeats++
			continue
		}
		seen[key{w, seq}] = true
		if tc, ok := commits[seq]; ok {
			lat = append(lat, max(0, time.Duration(at-tc.UnixNano())))
		}
	}
	missed := n*len(commits) - len(lat)
	slices.Sort(lat)
	slices.Sort(acks)
	pct := func(d []time.Duration, p float64) time.Duration {
		if len(d) == 0 {
			return 0
		}
		return d[min(len(d)-1, int(float64(len(d))*p))]
	}
	b.Logf("%d watchers on %d instance(s), connected in %s; %d events at %d/s: %d deliveries",
		n, insts, connectTook.Round(time.Millisecond), len(commits), rate, len(lat))
	b.Logf("delivery latency p50 %s p99 %s max %s; missed %d, repeated %d; %s",
		pct(lat, 0.50).Round(10*time.Microsecond), pct(lat, 0.99).Round(10*time.Microsecond), pct(lat, 1).Round(time.Millisecond), missed, repeats, summary)
	b.Logf("server heap+stacks per watcher %.1f KiB, goroutines per watcher %.2f; peak heap while publishing %d MiB",
		heapPer/1024, float64(g1-g0)/float64(n), peakHeap>>20)
	watcherCPU := child.ProcessState.UserTime() + child.ProcessState.SystemTime()
	b.Logf("CPU per delivery: server process %.1f µs (%s in all while publishing; PostgreSQL not included), watcher process %.1f µs",
		float64(serverCPU.Microseconds())/float64(max(len(lat), 1)), serverCPU.Round(time.Millisecond),
		float64(watcherCPU.Microseconds())/float64(max(len(lat), 1)))
	b.Logf("publish ack (begin → commit returned) p50 %s p99 %s", pct(acks, 0.5).Round(10*time.Microsecond), pct(acks, 0.99).Round(10*time.Microsecond))
	b.ReportMetric(float64(pct(lat, 0.99).Microseconds())/1000, "p99-ms")
	if missed > 0 || repeats > 0 {
		b.Errorf("%d deliveries missed, %d repeated", missed, repeats)
	}
	if os.Getenv("BENCH_PGBENCH") != "0" {
		b.Logf("pgbench -N, same cluster, same run: %s", pgbench(b, testenv.AdminURL(b), "-N", 10))
	}
}

// cpuTime is the user and system CPU this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func sqlClose(db *gorm.DB) {
	if s, err := db.DB(); err == nil {
		s.Close()
	}
}

// BenchmarkLiveWatchers is BenchmarkLive's child process: the watchers.
// Run alone it does nothing.
func BenchmarkLiveWatchers(b *testing.B) {
	urls := strings.Split(os.Getenv("GGZY_LIVE_WATCH"), ",")
	if urls[0] == "" {
		b.Skip("the watcher process of BenchmarkLive")
	}
	n := envN("GGZY_LIVE_WATCHERS", 1000)
	type receipt struct{ seq, at int64 }
	recs := make([][]receipt, n)
	var connected, reconnects atomic.Int64
	var lastSeen = make([]atomic.Int64, n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1, DisableCompression: true}}
	var wg sync.WaitGroup
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			last, first := "", true
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", urls[w%len(urls)], nil)
				if last != "" {
					req.Header.Set("Last-Event-ID", last)
				}
				resp, err := client.Do(req)
				if err != nil {
					time.Sleep(100 * time.Millisecond)
					continue
				}
				br := bufio.NewReaderSize(resp.Body, 1024)
				var id string
				for {
					line, err := br.ReadSlice('\n')
					if err != nil {
						break
					}
					switch {
					case len(line) > 4 && string(line[:4]) == "id: ":
						id = string(line[4 : len(line)-1])
					case string(line) == "event: clock\n":
						if first {
							first = false
							connected.Add(1)
						}
					case string(line) == "\n" && id != "":
						seq, _ := strconv.ParseInt(id, 10, 64)
						recs[w] = append(recs[w], receipt{seq, time.Now().UnixNano()})
						lastSeen[w].Store(seq)
						last, id = strconv.FormatInt(seq, 10), ""
					}
				}
				resp.Body.Close()
				if ctx.Err() == nil {
					reconnects.Add(1)
				}
			}
		}(w)
	}
	for connected.Load() < int64(n) {
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Println("LIVE-READY")
	var want int64
	if _, err := fmt.Fscanf(os.Stdin, "DONE %d\n", &want); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for w := 0; w < n && time.Now().Before(deadline); {
		if lastSeen[w].Load() >= want {
			w++
			continue
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	f, err := os.Create(os.Getenv("GGZY_LIVE_OUT"))
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	var buf [24]byte
	for w, rs := range recs {
		for _, r := range rs {
			binary.LittleEndian.PutUint64(buf[0:], uint64(w))
			binary.LittleEndian.PutUint64(buf[8:], uint64(r.seq))
			binary.LittleEndian.PutUint64(buf[16:], uint64(r.at))
			bw.Write(buf[:])
		}
	}
	bw.Flush()
	f.Close()
	fmt.Printf("LIVE-DONE watcher reconnects %d\n", reconnects.Load())
}
