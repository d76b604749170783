package supervision

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/templates"
	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/tradingtest"
)

// The supervisors' calendar names a procurement lot 包1, as the project's
// own pages do, not 标段1 (issue 14).
func TestDashboardNamesLotsByCategory(t *testing.T) {
	t.Parallel()
	ts, clock := tradingtest.NewService(t)
	s := &Service{Service: ts}
	agent := tradingtest.Account(t, s.Service, trading.RoleAgent, "daili")
	sup := tradingtest.Account(t, s.Service, trading.RoleSupervisor, "jiandu")
	tradingtest.PublishedProject(t, s.Service, agent, sup, "procurement", "某采购公告")
	// Tuesday 10 March: the documents stop at 17:00.
	clock.Set(time.Date(2026, 3, 10, 8, 0, 0, 0, trading.Shanghai))
	d, err := s.Dashboard(context.Background(), sup)
	if err != nil {
		t.Fatal(err)
	}
	if d.Today.Count != 1 || d.Today.Items[0].Category != trading.Procurement {
		t.Fatalf("today: %+v", d.Today)
	}
	r, err := templates.New(trading.TemplateFuncs())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.Render(&buf, "supervise", templates.Page{Title: "现场监督", CSRF: "tok", Data: d}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "<td>包1 第1包</td>") || strings.Contains(out, "标段1") {
		t.Fatalf("the calendar does not name the lot 包1:\n%s", out)
	}
}
