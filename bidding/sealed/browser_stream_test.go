package sealed

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Sealing a 128 MB file in Chromium keeps the page's memory flat: the live
// JavaScript heap plus ArrayBuffer backing stores, sampled after a forced
// GC while sealing runs, stay far below the file's size (File.slice, one
// chunk at a time). Under -race (CI) the file is 64 MB, still twice the
// growth allowed, sampled twice as often: the browser does the work, the
// race detector only slows this side's sampling.
func TestBrowserSealMemoryIsFlat(t *testing.T) {
	size, every := 128<<20, 200*time.Millisecond
	if raceEnabled {
		size, every = 64<<20, 100*time.Millisecond
	}
	srv := newInteropServer(t)
	ctx := newChrome(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	key, _ := bidKey(t)
	live := func() float64 {
		if _, err := chromedp.Call(ctx, heapprofiler.CollectGarbage, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
		u, err := chromedp.Call(ctx, runtime.GetHeapUsage, cdp.Empty{})
		if err != nil {
			t.Fatal(err)
		}
		return u.UsedSize + u.BackingStorageSize
	}
	// The file: a Blob the browser keeps outside the page's heap, as it does
	// a File the bidder picks.
	js[bool](t, ctx, `
		const one = new Uint8Array(1 << 20), parts = [];
		for (let o = 0; o < one.length; o += 65536) crypto.getRandomValues(one.subarray(o, o + 65536));
		for (let i = 0; i < %d; i++) { one[0] = i; parts.push(new Blob([one])); }
		window.bigFile = new Blob(parts);
		window.sealedBytes = 0;
		return true;`, size>>20)
	base := live()

	done := make(chan error, 1)
	go func() {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(async () => {
			await GgzySealed.seal(window.bigFile, {publicKey: %s, contentKey: GgzySealed.newContentKey("big"), part: 1},
				(p) => { window.sealedBytes += p.length; });
			return true; })()`, quote(b64std(MarshalPublicKey(key.Public)))), chromedp.EvalAwaitPromise))
		done <- err
	}()
	var peak float64
	samples := 0
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("sealing in the browser: %v", err)
			}
			running = false
		case <-time.After(every):
			peak = max(peak, live())
			samples++
		case <-ctx.Done():
			t.Fatal(context.Cause(ctx))
		}
	}
	sealed := js[float64](t, ctx, `return window.sealedBytes;`)
	if sealed < float64(size) {
		t.Fatalf("sealed %v bytes of %d", sealed, size)
	}
	if samples < 3 {
		t.Fatalf("only %d memory samples while sealing", samples)
	}
	grown := peak - base
	t.Logf("sealed %d MB in the browser; live JS heap + array buffers at most %.1f MB above the start (%d samples)", size>>20, grown/(1<<20), samples)
	if grown > 32<<20 {
		t.Errorf("the page's memory grew by %.0f MB while sealing %d MB: not flat", grown/(1<<20), size>>20)
	}
}
