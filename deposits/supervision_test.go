package deposits

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading"
)

// The deposits source reports suspense, late payments, K1 and, once their
// day has passed, overdue refunds; and a project's deposit history.
func TestSupervisionSourceAlertsAndTimeline(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	src := SupervisionSource{Svc: e.Dep}
	if src.Section() != trading.SectionDeposits {
		t.Fatalf("section %q", src.Section())
	}
	var project trading.Project
	e.Dep.DB.Raw("SELECT p.* FROM projects p JOIN lots l ON l.project_id = p.id WHERE l.id = ?", e.Lot).Scan(&project)

	_, va1 := e.bidder("福建子建设有限公司")
	_, va2 := e.bidder("福建丑建设有限公司")
	_, va3 := e.bidder("福建寅建设有限公司")
	in1 := inflow("SV-1", va1, "福建子建设有限公司", "200000.00", e.Clock.Now())
	in2 := inflow("SV-2", va2, "福建丑建设有限公司", "200000.00", e.Clock.Now())
	in2.PayerAccount = in1.PayerAccount // K1
	lost := inflow("SV-3", "35010019999000001", "某公司", "500.00", e.Clock.Now())
	late := inflow("SV-4", va3, "福建寅建设有限公司", "200000.00", time.Date(2026, 3, 24, 10, 0, 0, 0, trading.Shanghai))
	for _, in := range []Inflow{in1, in2, lost, late} {
		if _, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{in}); err != nil {
			t.Fatal(err)
		}
	}

	kinds := func(now time.Time) map[string][]trading.Alert {
		t.Helper()
		alerts, err := src.Alerts(ctx, now, 50)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(alerts); i++ {
			if alerts[i].At.After(alerts[i-1].At) {
				t.Fatalf("alerts not newest first: %+v", alerts)
			}
		}
		out := map[string][]trading.Alert{}
		for _, a := range alerts {
			out[a.Kind] = append(out[a.Kind], a)
		}
		return out
	}
	got := kinds(e.Clock.Now())
	if len(got) != 3 || len(got["k1"]) != 1 || got["k1"][0].Rule != "K1" || got["k1"][0].ProjectCode != project.Code ||
		len(got["deposit_suspense"]) != 1 || !strings.Contains(got["deposit_suspense"][0].Title, "35010019999000001") ||
		len(got["deposit_late"]) != 1 || got["deposit_late"][0].ProjectCode != project.Code {
		t.Fatalf("alerts on 4 March: %+v", got)
	}
	// The late payment's refund was due within 5 days (9 March); on the
	// 10th it is overdue, and so is the returned suspense money's, which is
	// no longer listed as suspense.
	if err := e.Dep.ReturnSuspense(ctx, sup, suspenseID(t, e), "查无此账号，退回付款人"); err != nil {
		t.Fatal(err)
	}
	got = kinds(time.Date(2026, 3, 10, 9, 0, 0, 0, trading.Shanghai))
	over := got["refund_overdue"]
	if _, ok := got["deposit_suspense"]; ok || len(over) != 2 || !strings.Contains(over[0].Title, "2026-03-09") ||
		over[0].ProjectCode+over[1].ProjectCode != project.Code {
		t.Fatalf("alerts on 10 March: %+v", got)
	}
	if got := kinds(time.Date(2026, 3, 9, 23, 0, 0, 0, trading.Shanghai)); len(got["refund_overdue"]) != 0 {
		t.Fatalf("overdue on its due day: %+v", got)
	}

	// Forfeiture and a paid refund show on the timeline.
	if err := e.Dep.Forfeit(ctx, sup, va1, "D7", "中标后无正当理由拒绝签订合同"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Dep.CreateBatch(ctx, sup); err != nil {
		t.Fatal(err)
	}
	var refundID int64
	e.Dep.DB.Raw("SELECT r.id FROM refunds r JOIN inflows i ON i.id = r.inflow_id WHERE i.bank_txn_id = 'SV-4'").Scan(&refundID)
	if _, err := e.Dep.Confirm(ctx, sup, refundID, true, ""); err != nil {
		t.Fatal(err)
	}
	evs, err := src.Timeline(ctx, project.ID)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	var all []string
	for _, ev := range evs {
		count[ev.Kind]++
		all = append(all, ev.Title)
	}
	// Three inflows of the project (the suspense one belongs to none), the
	// late one's refund opened and paid, one forfeiture, one K1 alert.
	if count["deposit"] != 3 || count["refund"] != 2 || count["forfeiture"] != 1 || count["alert"] != 1 {
		t.Fatalf("timeline: %v\n%s", count, strings.Join(all, "\n"))
	}
	if joined := strings.Join(all, "\n"); !strings.Contains(joined, "没收保证金 200,000.00 元（标段1，D7）") || !strings.Contains(joined, "已退还 200,000.00 元") {
		t.Fatalf("timeline titles:\n%s", joined)
	}
}

func suspenseID(t *testing.T, e *depEnv) int64 {
	t.Helper()
	var id int64
	if err := e.Dep.DB.Raw("SELECT id FROM inflows WHERE status = 'suspense'").Scan(&id).Error; err != nil || id == 0 {
		t.Fatalf("no suspense inflow: %v", err)
	}
	return id
}
