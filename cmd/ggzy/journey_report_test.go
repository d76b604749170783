package main

import (
	"context"
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
	_, srv := newTestServer(t, demoConfig(t))
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
			legendClearOfAxes(t, ctx)
			checkPage(t, ctx, "savings")
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%d of %d trend charts drawn", drawn, charts)
}

// legendClearOfAxes checks that no chart's legend covers its axes' labels:
// the axis names stand in the band above the plot, the month labels in the
// band below it, and the legend must lie outside both.
func legendClearOfAxes(t *testing.T, ctx context.Context) {
	t.Helper()
	const js = `(() => {
	  const out = [];
	  document.querySelectorAll(".trend-chart").forEach(el => {
	    const c = window.echarts.getInstanceByDom(el), m = c.getModel();
	    const v = c.getViewOfComponentModel(m.getComponent("legend"));
	    const r = v.group.getBoundingRect();
	    const g = m.getComponent("grid").coordinateSystem.getRect();
	    out.push([v.group.y + r.y, r.height, g.y, g.height]);
	  });
	  return out;
	})()`
	boxes, err := chromedp.Run(ctx, chromedp.Evaluate[[][4]float64](js))
	if err != nil || len(boxes) == 0 {
		t.Fatalf("chart geometry: %v %v", boxes, err)
	}
	const nameBand, labelBand = 28, 22 // px above the plot (axis names), below it (month labels)
	for i, b := range boxes {
		legendTop, legendBottom, plotTop, plotBottom := b[0], b[0]+b[1], b[2], b[2]+b[3]
		if !(legendBottom <= plotTop-nameBand || legendTop >= plotBottom+labelBand) {
			t.Errorf("chart %d: legend %.0f–%.0f px overlaps the axis labels around the plot %.0f–%.0f px", i, legendTop, legendBottom, plotTop, plotBottom)
		}
	}
}
