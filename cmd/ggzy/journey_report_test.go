package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A supervisor opens the savings report of the demo year: the paragraph is
// there, and every category's trend chart is drawn by the locally served
// ECharts under the page's strict CSP.
func TestBrowserJourneySavingsReport(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	if err := loadDemo(context.Background(), app, io.Discard); err != nil {
		t.Fatal(err)
	}
	ctx := newChrome(t)
	login(t, ctx, srv.URL, "jiandu", "jiandu-ggzy-2026")
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/reports/savings?year=2025")); err != nil {
		t.Fatal(err)
	}
	if p := waitText(t, ctx, "#paragraph", "完成工程建设招标项目"); !strings.Contains(p, "节约率为") || strings.Contains(p, "完成工程建设招标项目0宗") {
		t.Fatalf("paragraph: %q", p)
	}
	var drawn, charts int
	for i := 0; i < 50; i++ {
		var err error
		if charts, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".trend-chart").length`)); err != nil {
			t.Fatal(err)
		}
		if drawn, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".trend-chart canvas").length`)); err != nil {
			t.Fatal(err)
		}
		if charts > 0 && drawn >= charts {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%d of %d trend charts drawn", drawn, charts)
}
