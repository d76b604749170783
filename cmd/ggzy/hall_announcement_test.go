package main

import (
	"context"
	"crypto/ecdh"
	"fmt"
	"html"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/rules"
)

// EB7 through the pages and the API: the host concludes the hall on its
// page although the opening-record announcement is refused; the hall page
// tells the host why and offers 重新生成开标记录公告 (a bidder sees neither);
// the page's button and the API (validated against openapi.json) then draft
// exactly one announcement, and asking again answers that one.
func TestOpeningAnnouncementRegeneratedOnThePageAndThroughAPI(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	ctx := context.Background()
	lot, _, _ := sealedLot(t, app)
	var refuse atomic.Bool
	refuse.Store(true)
	app.Trading.CheckAnnouncement = append(app.Trading.CheckAnnouncement, func(ctx context.Context, tx *gorm.DB, n *trading.Announcement, p *trading.Project, at time.Time) ([]rules.Violation, error) {
		if n.Type != trading.AnnouncementOpening || !refuse.Load() {
			return nil, nil
		}
		return []rules.Violation{{Rule: "EB7", Field: "body", Requirement: "开标记录公告须载明监督人员", Actual: "未载明"}}, nil
	})
	bidders := map[string]trading.Actor{}
	keys := map[string]*ecdh.PrivateKey{}
	for i, u := range []string{"toubiao1", "toubiao2", "toubiao3"} {
		bidders[u] = sealedBidder(t, app, lot.ID, i+1, u)
		keys[u] = sealedKey(t, app, bidders[u])
		submitSealed(t, app, bidders[u], keys[u], lot.ID, fmt.Sprintf("1180000%d.00", i))
	}
	clock := app.Clock.(*trading.ManualClock)
	clock.Set(lot.BidDeadline.Add(time.Minute))
	if err := trading.FreezeDBClock(ctx, app.DB, clock.Now()); err != nil {
		t.Fatal(err)
	}
	agent := newBrowser(t, srv.URL)
	agent.post("/login", "/login", url.Values{"username": {"daili"}, "password": {"daili2026"}})
	hall := fmt.Sprintf("/lots/%d/hall", lot.ID)
	if code, _ := agent.post(hall, hall+"/open", url.Values{}); code != 200 {
		t.Fatalf("open the hall: %d", code)
	}
	for u, b := range bidders {
		h, err := app.Bidding.HallHeader(ctx, b, lot.ID)
		if err != nil {
			t.Fatal(err)
		}
		ck, err := sealed.UnwrapKey(*h, keys[u])
		if err != nil {
			t.Fatal(err)
		}
		if err := app.Bidding.Decrypt(ctx, b, lot.ID, ck.String()); err != nil {
			t.Fatal(err)
		}
	}

	code, page := agent.post(hall, hall+"/conclude", url.Values{})
	if code != 200 || !strings.Contains(page, "开标结束，开标记录已生成并存档") {
		t.Fatalf("concluding on the page: %d", code)
	}
	for _, want := range []string{`id="announcement-problem"`, "开标记录公告未能生成", "开标记录公告须载明监督人员", `id="announcement-regenerate"`, "重新生成开标记录公告", `id="record-link"`} {
		if !strings.Contains(html.UnescapeString(page), want) {
			t.Errorf("the host's hall page lacks %q", want)
		}
	}
	bidderPage := newBrowser(t, srv.URL)
	bidderPage.post("/login", "/login", url.Values{"username": {"toubiao1"}, "password": {"toubiao12026"}})
	if code, body := bidderPage.get(hall); code != 200 || strings.Contains(body, "announcement-problem") || strings.Contains(body, "announcement-regenerate") {
		t.Fatalf("a bidder's hall page shows the host's problem or action: %d", code)
	}

	// Still refused: the button says so, and nothing is drafted.
	if code, body := agent.post(hall, hall+"/opening-announcement", url.Values{}); code != 200 || !strings.Contains(html.UnescapeString(body), "开标记录公告仍未能生成") {
		t.Fatalf("regenerating while refused: %d", code)
	}
	token := apiToken(t, srv.URL, "daili", "daili2026")
	api := fmt.Sprintf("%s/api/v1/lots/%d/hall/opening-announcement", srv.URL, lot.ID)
	var refusal struct {
		Error struct {
			Rule string `json:"rule"`
		} `json:"error"`
	}
	if code := call(t, "POST", api, token, nil, &refusal); code != 422 {
		t.Fatalf("the API regenerating while refused: %d %+v", code, refusal)
	}
	if code := call(t, "POST", api, apiToken(t, srv.URL, "toubiao1", "toubiao12026"), nil, &refusal); code != 403 {
		t.Fatalf("a bidder through the API: %d", code)
	}

	// The cause gone: the page's button drafts it, the API answers it.
	refuse.Store(false)
	if code, body := agent.post(hall, hall+"/opening-announcement", url.Values{}); code != 200 ||
		!strings.Contains(body, "开标记录公告已重新生成，并已提交监督审核") || strings.Contains(body, `id="announcement-problem"`) {
		t.Fatalf("regenerating on the page: %d", code)
	}
	var got struct {
		LotID          int64 `json:"lot_id"`
		AnnouncementID int64 `json:"announcement_id"`
		Created        bool  `json:"created"`
	}
	if code := call(t, "POST", api, token, nil, &got); code != 200 || got.Created || got.AnnouncementID == 0 || got.LotID != lot.ID {
		t.Fatalf("the API after the page: %d %+v", code, got)
	}
	var n int64
	app.DB.Model(&trading.Announcement{}).Where("type = ?", trading.AnnouncementOpening).Count(&n)
	if n != 1 {
		t.Fatalf("%d opening-record announcements, want 1", n)
	}
	var hv struct {
		Opening struct {
			AnnouncementID      int64   `json:"announcement_id"`
			AnnouncementProblem *string `json:"announcement_problem"`
		} `json:"opening"`
	}
	if code := call(t, "GET", fmt.Sprintf("%s/api/v1/lots/%d/hall", srv.URL, lot.ID), token, nil, &hv); code != 200 ||
		hv.Opening.AnnouncementID != got.AnnouncementID || hv.Opening.AnnouncementProblem != nil {
		t.Fatalf("the hall through the API: %d %+v", code, hv)
	}
}
