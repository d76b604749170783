package bidding

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
)

// benchMB is the size of the benchmarks' bid file (GGZY_BENCH_MB, 64 by
// default; the figure is 500).
func benchMB() int {
	if n, err := strconv.Atoi(os.Getenv("GGZY_BENCH_MB")); err == nil && n > 0 {
		return n
	}
	return 64
}

// patternReader gives size bytes repeating one random MiB.
type patternReader struct {
	block []byte
	left  int64
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(int64(len(p)), r.left)], r.block)
	r.left -= int64(n)
	return n, nil
}

func newPattern(size int64) *patternReader {
	b := make([]byte, 1<<20)
	rand.Read(b)
	return &patternReader{block: b, left: size}
}

// sealToFile seals size bytes as a part of up into a temporary file.
func sealToFile(b *testing.B, e *sealedEnv, bidder *testBidder, up *BidUpload, part int, size int64) (string, int64) {
	b.Helper()
	f, err := os.CreateTemp(b.TempDir(), "env")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	ck, _ := sealed.NewContentKey(up.Ref)
	if _, err := sealed.Seal(f, newPattern(size), bidder.Key.PublicKey(), ck, sealed.SealOptions{Part: part}); err != nil {
		b.Fatal(err)
	}
	st, _ := f.Stat()
	return f.Name(), st.Size()
}

// piecesAtOnce is PIECES_AT_ONCE of templates/static/bid.js.
const piecesAtOnce = 3

// chainValuesOf is sealed.ChainValues and the layout of the envelope in a
// file, read in pieces (the browser notes them while sealing).
func chainValuesOf(b *testing.B, path string) ([][]byte, *sealed.Layout) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	first := make([]byte, sealed.LayoutBytes)
	n, _ := io.ReadFull(f, first)
	layout, err := sealed.ReadLayout(first[:n])
	if err != nil {
		b.Fatal(err)
	}
	f.Seek(0, io.SeekStart)
	h := sha256.New()
	var out [][]byte
	for {
		st, _ := h.(encoding.BinaryMarshaler).MarshalBinary()
		n, err := io.CopyN(h, f, PieceSize)
		if n == 0 {
			return out, layout
		}
		out = append(out, st[4:36])
		if err != nil {
			return out, layout
		}
	}
}

// inParallel runs fn(first..last), width at a time, as bid.js does.
func inParallel(first, last, width int, fn func(int) error) error {
	sem := make(chan struct{}, width)
	errs := make(chan error, last-first+1)
	var wg sync.WaitGroup
	for n := first; n <= last; n++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs <- fn(n)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkSealedUploadVsMinIO: one bid file sealed beforehand, uploaded
// through the platform as bid.js sends it (piecesAtOnce pieces at a time
// with their chaining values and the layout, into one multipart upload,
// each piece inspected without a key on its way, joined from the pieces'
// summaries) against the same bytes put straight into MinIO (minio-go's
// PutObject, which sends its parts several at a time too); the heap in use
// above the start after each upload is reported beside.
func BenchmarkSealedUploadVsMinIO(b *testing.B) {
	e := newSealedEnv(b)
	ctx := context.Background()
	size := int64(benchMB()) << 20
	e.Svc.MaxUpload = size + size/100
	bidder := e.sealedBidder("福建基准建设")
	up, err := e.Svc.StartBid(ctx, bidder.Actor, e.Lot, StartBidInput{Files: 1}, "")
	if err != nil {
		b.Fatal(err)
	}
	path, envSize := sealToFile(b, e, bidder, up, 1, size)
	b.Run("minio_put", func(b *testing.B) {
		b.SetBytes(envSize)
		cpu0 := processCPU()
		defer func() { b.ReportMetric(float64((processCPU()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op") }()
		for i := 0; i < b.N; i++ {
			f, _ := os.Open(path)
			if _, err := e.Svc.Storage.Client.PutObject(ctx, e.Svc.Storage.Bucket, fmt.Sprintf("bench/%d", i), f, envSize,
				minio.PutObjectOptions{PartSize: PieceSize}); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
	b.Run("platform_sealed", func(b *testing.B) {
		b.SetBytes(envSize)
		var peak uint64
		var cpu time.Duration // the upload's, not the sealing beforehand
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			up, err := e.Svc.StartBid(ctx, bidder.Actor, e.Lot, StartBidInput{Files: 1}, "")
			if err != nil {
				b.Fatal(err)
			}
			path, envSize := sealToFile(b, e, bidder, up, 1, size)
			chain, layout := chainValuesOf(b, path)
			reads := e.Svc.SealedReadBacks()
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			b.StartTimer()
			cpu0 := processCPU()
			uploadAsTheBrowser(b, e, bidder, up, path, envSize, chain, layout)
			b.StopTimer()
			cpu += processCPU() - cpu0
			if e.Svc.SealedReadBacks() != reads {
				b.Fatal("the envelope was read back: not the upload the browser makes")
			}
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if after.HeapInuse > before.HeapInuse && after.HeapInuse-before.HeapInuse > peak {
				peak = after.HeapInuse - before.HeapInuse
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(peak)/(1<<20), "heapMB-above-start")
		b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	})
	// paired: each iteration puts the file straight into MinIO and uploads
	// it through the platform back to back, in alternating order, so both
	// meet the same load of a shared machine; the median over iterations
	// of MinIO's time / the platform's is the ratio (target ≥ 0.8).
	b.Run("paired", func(b *testing.B) {
		b.SetBytes(2 * envSize)
		var ratios []float64
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			up, err := e.Svc.StartBid(ctx, bidder.Actor, e.Lot, StartBidInput{Files: 1}, "")
			if err != nil {
				b.Fatal(err)
			}
			path, envSize := sealToFile(b, e, bidder, up, 1, size)
			chain, layout := chainValuesOf(b, path)
			b.StartTimer()
			var put, platform time.Duration
			straight := func() {
				t0 := time.Now()
				f, _ := os.Open(path)
				if _, err := e.Svc.Storage.Client.PutObject(ctx, e.Svc.Storage.Bucket, fmt.Sprintf("bench/paired-%d", i), f, envSize,
					minio.PutObjectOptions{PartSize: PieceSize}); err != nil {
					b.Fatal(err)
				}
				f.Close()
				put = time.Since(t0)
			}
			through := func() {
				reads := e.Svc.SealedReadBacks()
				t0 := time.Now()
				uploadAsTheBrowser(b, e, bidder, up, path, envSize, chain, layout)
				platform = time.Since(t0)
				if e.Svc.SealedReadBacks() != reads {
					b.Fatal("the envelope was read back: not the upload the browser makes")
				}
			}
			if i%2 == 0 {
				straight()
				through()
			} else {
				through()
				straight()
			}
			ratios = append(ratios, put.Seconds()/platform.Seconds())
		}
		sort.Float64s(ratios)
		b.ReportMetric(ratios[len(ratios)/2], "put/platform-median")
		b.ReportMetric(ratios[0], "put/platform-min")
		b.ReportMetric(ratios[len(ratios)-1], "put/platform-max")
	})
}

// uploadAsTheBrowser uploads the envelope in path as bid.js does:
// piecesAtOnce pieces at a time, each with the chaining value and the
// layout the browser noted while sealing; then completes the part.
func uploadAsTheBrowser(b *testing.B, e *sealedEnv, bidder *testBidder, up *BidUpload, path string, envSize int64, chain [][]byte, layout *sealed.Layout) {
	ctx := context.Background()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	put := func(n int) error {
		piece := io.NewSectionReader(f, int64(n-1)*PieceSize, PieceSize)
		l := min(int64(PieceSize), envSize-int64(n-1)*PieceSize)
		return e.Svc.PutPieceClaimed(ctx, bidder.Actor, up.BidID, 1, n, io.LimitReader(piece, l), l, PieceClaims{Before: chain[n-1], Layout: layout})
	}
	if err := inParallel(1, len(chain), piecesAtOnce, put); err != nil {
		b.Fatal(err)
	}
	if _, err := e.Svc.CompletePart(ctx, bidder.Actor, up.BidID, 1); err != nil {
		b.Fatal(err)
	}
}

// benchBids is how many stored bids BenchmarkOpeningVsRead opens at once
// (GGZY_BENCH_BIDS, 1 by default; the figure is 30 of 100 MB).
func benchBids() int {
	if n, err := strconv.Atoi(os.Getenv("GGZY_BENCH_BIDS")); err == nil && n > 0 {
		return n
	}
	return 1
}

// BenchmarkOpeningVsRead: decrypting and checking stored bid files
// (sealed.Open streaming from MinIO, every bid at once as the hall takes
// them) against only reading them from MinIO, all at once too. The bids
// are one envelope stored GGZY_BENCH_BIDS times: the same work as as many
// envelopes, without sealing each.
func BenchmarkOpeningVsRead(b *testing.B) {
	e := newSealedEnv(b)
	ctx := context.Background()
	size := int64(benchMB()) << 20
	bidder := e.sealedBidder("福建基准建设")
	up, err := e.Svc.StartBid(ctx, bidder.Actor, e.Lot, StartBidInput{Files: 1}, "")
	if err != nil {
		b.Fatal(err)
	}
	ck, _ := sealed.NewContentKey(up.Ref)
	var env bytes.Buffer
	if _, err := sealed.Seal(&env, newPattern(size), bidder.Key.PublicKey(), ck, sealed.SealOptions{Part: 1}); err != nil {
		b.Fatal(err)
	}
	n, bids := int64(env.Len()), benchBids()
	for j := 0; j < bids; j++ {
		if _, err := e.Svc.Storage.Client.PutObject(ctx, e.Svc.Storage.Bucket, fmt.Sprintf("bench/env%d", j), bytes.NewReader(env.Bytes()), n, minio.PutObjectOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	env = bytes.Buffer{}
	// each runs f on every stored bid at once.
	each := func(b *testing.B, f func(r io.Reader) error) {
		var wg sync.WaitGroup
		errs := make([]error, bids)
		for j := 0; j < bids; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, _, err := e.Svc.Storage.Get(ctx, fmt.Sprintf("bench/env%d", j))
				if err != nil {
					errs[j] = err
					return
				}
				defer r.Close()
				errs[j] = f(r)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("minio_read", func(b *testing.B) {
		b.SetBytes(n * int64(bids))
		cpu0, mcpu0 := processCPU(), minioCPU(b)
		for i := 0; i < b.N; i++ {
			each(b, func(r io.Reader) error { _, err := io.Copy(io.Discard, r); return err })
		}
		b.ReportMetric(float64((processCPU()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
		b.ReportMetric(float64((minioCPU(b)-mcpu0).Milliseconds())/float64(b.N), "minio-cpu-ms/op")
	})
	b.Run("open_and_check", func(b *testing.B) {
		b.SetBytes(n * int64(bids))
		cpu0, mcpu0 := processCPU(), minioCPU(b)
		for i := 0; i < b.N; i++ {
			each(b, func(r io.Reader) error { _, err := sealed.Open(r, ck, io.Discard); return err })
		}
		b.ReportMetric(float64((processCPU()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
		b.ReportMetric(float64((minioCPU(b)-mcpu0).Milliseconds())/float64(b.N), "minio-cpu-ms/op")
	})
}

// minioCPU is the CPU time of the test binary's MinIO server so far: with
// cpu-ms/op it says how much of two cores an opening needs beside MinIO.
func minioCPU(b *testing.B) time.Duration {
	d, err := testenv.MinIOCPU()
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// processCPU is this process's user and system CPU time so far (MinIO, a
// process of its own, is not in it).
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
