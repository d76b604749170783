package portal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/trading/rules"
)

// The official OCDS 1.1.5 schemas, copied into testdata so that tests run
// from a clean clone and never touch the network.
const (
	ocdsPackageSchemaURL = "https://standard.open-contracting.org/schema/1__1__5/release-package-schema.json"
	ocdsReleaseSchemaURL = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"
	ocdsReserve          = "8765432.10" // a reserve price no other figure in the fixtures produces
)

var ocdsSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.AssertFormat() // date-time and uri are checked too
	c.UseLoader(offlineLoader{})
	for url, file := range map[string]string{
		ocdsPackageSchemaURL: "release-package-schema.json",
		ocdsReleaseSchemaURL: "release-schema.json",
	} {
		f, err := os.Open(filepath.Join("testdata", "ocds", file))
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if err := c.AddResource(url, doc); err != nil {
			return nil, err
		}
	}
	return c.Compile(ocdsPackageSchemaURL)
})

// offlineLoader refuses every URL not added as a resource.
type offlineLoader struct{}

func (offlineLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not in testdata/ocds (no network in tests)", url)
}

// validateOCDS validates JSON bytes against the release package schema.
func validateOCDS(t *testing.T, b []byte) error {
	t.Helper()
	sch, err := ocdsSchema()
	if err != nil {
		t.Fatalf("compile OCDS schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode package: %v", err)
	}
	return sch.Validate(inst)
}

func ocdsAt(day, hour int) *time.Time {
	t := time.Date(2026, 3, day, hour, 0, 0, 0, trading.Shanghai)
	return &t
}

func dec(s string) *decimal.Decimal {
	d := decimal.RequireFromString(s)
	return &d
}

// ocdsProject builds a project of the category with two lots, the second
// one carrying the distinctive reserve price.
func ocdsProject(c trading.Category) *trading.Project {
	p := &trading.Project{ID: 7, Code: "E3501000001" + string(c[0]), Category: c, Title: "测试项目 " + c.Name(),
		OwnerName: "福州市测试局", RegionCode: "350100", Region: trading.Region{Code: "350100", Name: "福州市"},
		AgentID: 42, Agent: trading.Account{ID: 42, DisplayName: "福建测试招标代理有限公司"}, Status: trading.ProjectActive}
	a := trading.Lot{ID: 101, ProjectID: 7, Seq: 1, Name: "第一标段", Deposit: decimal.RequireFromString("20000")}
	b := trading.Lot{ID: 102, ProjectID: 7, Seq: 2, Name: "第二标段", Deposit: decimal.RequireFromString("40000"),
		ReservePrice: dec(ocdsReserve)}
	switch c {
	case rules.Engineering:
		a.ControlPrice, a.EstimatedPrice, a.ReservePrice = dec("1234567.80"), dec("1300000"), dec("1100000.00")
		b.ControlPrice, b.EstimatedPrice = dec("2000000.25"), dec("2100000")
		a.DocIssueStart, a.BidDeadline = ocdsAt(2, 9), ocdsAt(23, 9)
		b.DocIssueStart, b.BidDeadline = ocdsAt(3, 9), ocdsAt(25, 9)
	case rules.Procurement:
		a.Budget, b.Budget = dec("500000.00"), dec("750000.50")
		a.DocIssueStart, a.BidDeadline = ocdsAt(4, 9), ocdsAt(24, 9)
		b.DocIssueStart, b.BidDeadline = ocdsAt(4, 9), ocdsAt(24, 9)
	case rules.Land:
		a.StartingPrice, a.Increment = dec("30000000"), dec("100000")
		b.StartingPrice, b.Increment = dec("45000000.00"), dec("100000")
		a.ListingStart, a.ListingEnd = ocdsAt(10, 9), ocdsAt(24, 16)
		b.ListingStart, b.ListingEnd, b.AuctionAt = ocdsAt(11, 9), ocdsAt(25, 16), ocdsAt(26, 10)
	case rules.Property:
		a.ListingPrice, a.AppraisedValue = dec("1000000"), dec("1000000")
		b.ListingPrice, b.AppraisedValue = dec("2500000.00"), dec("2400000")
		a.ListingStart, a.ListingEnd = ocdsAt(5, 9), ocdsAt(30, 17)
		b.ListingStart, b.ListingEnd = ocdsAt(5, 9), ocdsAt(31, 17)
	}
	p.Lots = []trading.Lot{a, b}
	return p
}

func ocdsAnnouncement(id int64, typ trading.AnnouncementType, at *time.Time) trading.Announcement {
	return trading.Announcement{ID: id, ProjectID: 7, Type: typ, Title: "测试项目" + typ.Name(), Status: trading.AnnouncementPublished,
		PublishedAt: at, BodyHTML: "<p>底价保密</p>"}
}

func openingAnnouncement(c trading.Category) trading.AnnouncementType {
	return map[trading.Category]trading.AnnouncementType{rules.Engineering: trading.AnnouncementTender, rules.Procurement: trading.AnnouncementProcurement,
		rules.Land: trading.AnnouncementTransfer, rules.Property: trading.AnnouncementListing}[c]
}

// ocdsScenarios are the announcement histories every category is exported with.
func ocdsScenarios(c trading.Category) map[string][]trading.Announcement {
	open := ocdsAnnouncement(501, openingAnnouncement(c), ocdsAt(1, 10))
	amend := ocdsAnnouncement(502, trading.AnnouncementAmendment, ocdsAt(6, 15))
	amend.AmendsID = &open.ID
	return map[string][]trading.Announcement{
		"none":        nil,
		"opening":     {open},
		"amendment":   {open, amend},
		"termination": {open, amend, ocdsAnnouncement(503, trading.AnnouncementTermination, ocdsAt(8, 11))},
		"results": {open, ocdsAnnouncement(504, trading.AnnouncementCandidates, ocdsAt(26, 10)),
			ocdsAnnouncement(505, trading.AnnouncementResult, ocdsAt(30, 10))},
	}
}

var ocdsNow = time.Date(2026, 2, 20, 8, 30, 0, 0, time.UTC)

func marshalOCDS(t *testing.T, p *trading.Project, announcements []trading.Announcement) (*ReleasePackage, []byte) {
	t.Helper()
	pkg, err := OCDSPackage(p, announcements, "ocds-ggzy00", "https://ggzy.example.cn/", ocdsNow)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(pkg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return pkg, b
}

// TestOCDSSchemaValid exports every category with every announcement history
// and validates the JSON against the official release package schema.
func TestOCDSSchemaValid(t *testing.T) {
	for _, c := range rules.Categories {
		for name, announcements := range ocdsScenarios(c) {
			t.Run(string(c)+"/"+name, func(t *testing.T) {
				_, b := marshalOCDS(t, ocdsProject(c), announcements)
				if err := validateOCDS(t, b); err != nil {
					t.Fatalf("package does not validate: %v\n%s", err, b)
				}
				for _, s := range []string{"8765432.1", "8765432.10", "87654321", "底价"} {
					if bytes.Contains(b, []byte(s)) {
						t.Errorf("the reserve price leaks: %q in\n%s", s, b)
					}
				}
				// Nothing the export says may come from the reserve price of
				// lot 101 either (engineering sets one).
				if bytes.Contains(b, []byte("1100000")) {
					t.Errorf("lot 101's reserve price leaks:\n%s", b)
				}
			})
		}
	}
}

// TestOCDSSchemaRejects proves the validation is real: broken packages fail.
func TestOCDSSchemaRejects(t *testing.T) {
	_, good := marshalOCDS(t, ocdsProject(rules.Engineering), ocdsScenarios(rules.Engineering)["amendment"])
	if err := validateOCDS(t, good); err != nil {
		t.Fatalf("the good package must validate: %v", err)
	}
	release := func(m map[string]any) map[string]any { return m["releases"].([]any)[0].(map[string]any) }
	tender := func(m map[string]any) map[string]any { return release(m)["tender"].(map[string]any) }
	for name, breakIt := range map[string]func(m map[string]any){
		"bogus tender status": func(m map[string]any) { tender(m)["status"] = "bogus" },
		"missing ocid":        func(m map[string]any) { delete(release(m), "ocid") },
		"unknown tag":         func(m map[string]any) { release(m)["tag"] = []any{"tenderAward"} },
		"amount as a string":  func(m map[string]any) { tender(m)["value"].(map[string]any)["amount"] = "3234568.05" },
		"unknown currency":    func(m map[string]any) { tender(m)["value"].(map[string]any)["currency"] = "RMB" },
		"no releases":         func(m map[string]any) { m["releases"] = []any{} },
		"date without offset": func(m map[string]any) { release(m)["date"] = "2026-03-01 10:00:00" },
		"missing publisher":   func(m map[string]any) { delete(m, "publisher") },
	} {
		t.Run(name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(good, &m); err != nil {
				t.Fatal(err)
			}
			breakIt(m)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			err = validateOCDS(t, b)
			if err == nil {
				t.Fatalf("a package with %s validated", name)
			}
			t.Logf("rejected: %.300v", err)
		})
	}
}

// ocdsJSON is the exported package read back as plain JSON.
type ocdsJSON struct {
	URI           string `json:"uri"`
	Version       string `json:"version"`
	PublishedDate string `json:"publishedDate"`
	Publisher     struct {
		Name string `json:"name"`
	} `json:"publisher"`
	Releases []struct {
		OCID           string   `json:"ocid"`
		ID             string   `json:"id"`
		Date           string   `json:"date"`
		Tag            []string `json:"tag"`
		InitiationType string   `json:"initiationType"`
		Language       string   `json:"language"`
		Parties        []struct {
			ID    string   `json:"id"`
			Name  string   `json:"name"`
			Roles []string `json:"roles"`
		} `json:"parties"`
		Buyer struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"buyer"`
		Tender struct {
			ID              string `json:"id"`
			Title           string `json:"title"`
			Status          string `json:"status"`
			ProcuringEntity struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"procuringEntity"`
			Value *struct {
				Amount   json.Number `json:"amount"`
				Currency string      `json:"currency"`
			} `json:"value"`
			ProcurementMethod        string `json:"procurementMethod"`
			ProcurementMethodDetails string `json:"procurementMethodDetails"`
			MainProcurementCategory  string `json:"mainProcurementCategory"`
			TenderPeriod             *struct {
				StartDate string `json:"startDate"`
				EndDate   string `json:"endDate"`
			} `json:"tenderPeriod"`
			Lots []struct {
				ID     string `json:"id"`
				Title  string `json:"title"`
				Status string `json:"status"`
				Value  *struct {
					Amount   json.Number `json:"amount"`
					Currency string      `json:"currency"`
				} `json:"value"`
			} `json:"lots"`
			Documents []struct {
				ID            string `json:"id"`
				DocumentType  string `json:"documentType"`
				Title         string `json:"title"`
				URL           string `json:"url"`
				DatePublished string `json:"datePublished"`
				Format        string `json:"format"`
				Language      string `json:"language"`
			} `json:"documents"`
			Amendments []struct {
				ID              string `json:"id"`
				AmendsReleaseID string `json:"amendsReleaseID"`
				ReleaseID       string `json:"releaseID"`
			} `json:"amendments"`
		} `json:"tender"`
	} `json:"releases"`
}

func readOCDS(t *testing.T, b []byte) ocdsJSON {
	t.Helper()
	var out ocdsJSON
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOCDSValuesAndPeriods(t *testing.T) {
	for _, tc := range []struct {
		c               trading.Category
		sum             string
		lot1, lot2      string
		start, end      string
		mainCategory    string
		methodDetails   string
		openingDocument string
	}{
		{rules.Engineering, "3234568.05", "1234567.8", "2000000.25",
			"2026-03-02T09:00:00+08:00", "2026-03-25T09:00:00+08:00", "works", "公开招标", "tenderNotice"},
		{rules.Procurement, "1250000.5", "500000", "750000.5",
			"2026-03-04T09:00:00+08:00", "2026-03-24T09:00:00+08:00", "", "公开招标", "tenderNotice"},
		{rules.Land, "75000000", "30000000", "45000000",
			"2026-03-10T09:00:00+08:00", "2026-03-26T10:00:00+08:00", "", "公开挂牌出让", "tenderNotice"},
		{rules.Property, "3500000", "1000000", "2500000",
			"2026-03-05T09:00:00+08:00", "2026-03-31T17:00:00+08:00", "", "公开挂牌转让", "tenderNotice"},
	} {
		t.Run(string(tc.c), func(t *testing.T) {
			_, b := marshalOCDS(t, ocdsProject(tc.c), ocdsScenarios(tc.c)["opening"])
			// Amounts are JSON numbers, never quoted.
			if bytes.Contains(b, []byte(`"amount": "`)) {
				t.Errorf("an amount is a string:\n%s", b)
			}
			pkg := readOCDS(t, b)
			if len(pkg.Releases) != 1 {
				t.Fatalf("releases = %d, want 1", len(pkg.Releases))
			}
			r := pkg.Releases[0]
			td := r.Tender
			if td.Value == nil || td.Value.Amount.String() != tc.sum || td.Value.Currency != "CNY" {
				t.Errorf("tender.value = %+v, want %s CNY", td.Value, tc.sum)
			}
			if len(td.Lots) != 2 || td.Lots[0].ID != "101" || td.Lots[1].ID != "102" ||
				td.Lots[0].Title != "第一标段" || td.Lots[0].Status != "active" {
				t.Fatalf("lots = %+v", td.Lots)
			}
			for i, want := range []string{tc.lot1, tc.lot2} {
				if v := td.Lots[i].Value; v == nil || v.Amount.String() != want || v.Currency != "CNY" {
					t.Errorf("lot %d value = %+v, want %s CNY", i, v, want)
				}
			}
			if td.TenderPeriod == nil || td.TenderPeriod.StartDate != tc.start || td.TenderPeriod.EndDate != tc.end {
				t.Errorf("tenderPeriod = %+v, want %s – %s", td.TenderPeriod, tc.start, tc.end)
			}
			if td.MainProcurementCategory != tc.mainCategory {
				t.Errorf("mainProcurementCategory = %q, want %q", td.MainProcurementCategory, tc.mainCategory)
			}
			if td.ProcurementMethod != "open" || td.ProcurementMethodDetails != tc.methodDetails {
				t.Errorf("method = %q / %q", td.ProcurementMethod, td.ProcurementMethodDetails)
			}
			if len(td.Documents) != 1 || td.Documents[0].DocumentType != tc.openingDocument {
				t.Errorf("documents = %+v", td.Documents)
			}
			if td.ID != ocdsProject(tc.c).Code || td.Title == "" || td.Status != "active" {
				t.Errorf("tender = %q %q %q", td.ID, td.Title, td.Status)
			}
		})
	}
}

func TestOCDSReleases(t *testing.T) {
	p := ocdsProject(rules.Engineering)
	slices.Reverse(p.Lots) // the export orders lots by seq, whatever the preload gave
	_, b := marshalOCDS(t, p, ocdsScenarios(rules.Engineering)["termination"])
	pkg := readOCDS(t, b)
	ocid := "ocds-ggzy00-" + p.Code
	if pkg.URI != "https://ggzy.example.cn/api/v1/projects/"+p.Code+"/ocds" || pkg.Version != "1.1" ||
		pkg.Publisher.Name != "ggzy 公共资源交易平台" {
		t.Errorf("package = %q %q %q", pkg.URI, pkg.Version, pkg.Publisher.Name)
	}
	if pkg.PublishedDate != "2026-03-08T11:00:00+08:00" {
		t.Errorf("publishedDate = %s, want the termination's", pkg.PublishedDate)
	}
	want := []struct {
		id, date, tag, status string
		docs                  []string
	}{
		{ocid + "-501", "2026-03-01T10:00:00+08:00", "tender", "active", []string{"tenderNotice"}},
		{ocid + "-502", "2026-03-06T15:00:00+08:00", "tenderAmendment", "active", []string{"tenderNotice", "clarifications"}},
		{ocid + "-503", "2026-03-08T11:00:00+08:00", "tenderCancellation", "cancelled", // issue 13 item 18
			[]string{"tenderNotice", "clarifications", "cancellationDetails"}},
	}
	if len(pkg.Releases) != len(want) {
		t.Fatalf("releases = %d, want %d", len(pkg.Releases), len(want))
	}
	for i, w := range want {
		r := pkg.Releases[i]
		if r.OCID != ocid || r.ID != w.id || r.Date != w.date || !slices.Equal(r.Tag, []string{w.tag}) ||
			r.InitiationType != "tender" || r.Language != "zh" {
			t.Errorf("release %d = %s %s %s %v %s %s", i, r.OCID, r.ID, r.Date, r.Tag, r.InitiationType, r.Language)
		}
		if len(r.Tender.Lots) != 2 || r.Tender.Lots[0].ID != "101" || r.Tender.Lots[1].ID != "102" {
			t.Errorf("release %d lots = %+v, want 101, 102", i, r.Tender.Lots)
		}
		if r.Tender.Status != w.status {
			t.Errorf("release %d tender.status = %s, want %s", i, r.Tender.Status, w.status)
		}
		for _, l := range r.Tender.Lots {
			if l.Status != w.status {
				t.Errorf("release %d lot %s status = %s, want %s", i, l.ID, l.Status, w.status)
			}
		}
		var types []string
		for _, d := range r.Tender.Documents {
			types = append(types, d.DocumentType)
		}
		if !slices.Equal(types, w.docs) {
			t.Errorf("release %d documents = %v, want %v", i, types, w.docs)
		}
	}
	d := pkg.Releases[2].Tender.Documents[1]
	if d.ID != "502" || d.URL != "https://ggzy.example.cn/notices/502" || d.Title != "测试项目变更公告" ||
		d.DatePublished != "2026-03-06T15:00:00+08:00" || d.Format != "text/html" || d.Language != "zh" {
		t.Errorf("amendment document = %+v", d)
	}
	am := pkg.Releases[1].Tender.Amendments
	if len(am) != 1 || am[0].ID != "502" || am[0].AmendsReleaseID != ocid+"-501" || am[0].ReleaseID != ocid+"-502" {
		t.Errorf("amendments = %+v", am)
	}

	// Parties: the owner is the buyer, the agent the procuring entity.
	r := pkg.Releases[0]
	if len(r.Parties) != 2 || r.Parties[0].Name != "福州市测试局" || !slices.Equal(r.Parties[0].Roles, []string{"buyer"}) ||
		r.Parties[1].Name != "福建测试招标代理有限公司" || !slices.Equal(r.Parties[1].Roles, []string{"procuringEntity"}) {
		t.Fatalf("parties = %+v", r.Parties)
	}
	if r.Buyer.ID != r.Parties[0].ID || r.Buyer.Name != "福州市测试局" ||
		r.Tender.ProcuringEntity.ID != r.Parties[1].ID || r.Tender.ProcuringEntity.Name != "福建测试招标代理有限公司" {
		t.Errorf("buyer = %+v, procuringEntity = %+v", r.Buyer, r.Tender.ProcuringEntity)
	}
	if r.Parties[0].ID == r.Parties[1].ID {
		t.Errorf("party ids collide: %s", r.Parties[0].ID)
	}
	// Ids are stable: a second export names the parties the same way.
	_, again := marshalOCDS(t, ocdsProject(rules.Engineering), nil)
	if r2 := readOCDS(t, again).Releases[0]; r2.Parties[0].ID != r.Parties[0].ID || r2.Parties[1].ID != r.Parties[1].ID {
		t.Errorf("party ids changed: %+v vs %+v", r2.Parties, r.Parties)
	}
}

func TestOCDSResultsUpdateTheTender(t *testing.T) {
	_, b := marshalOCDS(t, ocdsProject(rules.Land), ocdsScenarios(rules.Land)["results"])
	pkg := readOCDS(t, b)
	if len(pkg.Releases) != 3 {
		t.Fatalf("releases = %d", len(pkg.Releases))
	}
	for i, w := range []struct{ tag, doc string }{{"tender", "tenderNotice"}, {"tenderUpdate", "evaluationReports"},
		{"award", "awardNotice"}} {
		r := pkg.Releases[i]
		if !slices.Equal(r.Tag, []string{w.tag}) || r.Tender.Documents[i].DocumentType != w.doc || r.Tender.Status != "active" {
			t.Errorf("release %d: tag %v, document %s, status %s", i, r.Tag, r.Tender.Documents[i].DocumentType, r.Tender.Status)
		}
	}
	if pkg.PublishedDate != "2026-03-30T10:00:00+08:00" {
		t.Errorf("publishedDate = %s", pkg.PublishedDate)
	}
}

func TestOCDSPlanningRelease(t *testing.T) {
	p := ocdsProject(rules.Procurement)
	p.Status = trading.ProjectDraft
	_, b := marshalOCDS(t, p, nil)
	pkg := readOCDS(t, b)
	if pkg.PublishedDate != "2026-02-20T16:30:00+08:00" {
		t.Errorf("publishedDate = %s, want now", pkg.PublishedDate)
	}
	if len(pkg.Releases) != 1 {
		t.Fatalf("releases = %d", len(pkg.Releases))
	}
	r := pkg.Releases[0]
	if !slices.Equal(r.Tag, []string{"planning"}) || r.Date != "2026-02-20T16:30:00+08:00" ||
		r.Tender.Status != "planning" || len(r.Tender.Documents) != 0 || r.OCID != "ocds-ggzy00-"+p.Code {
		t.Errorf("planning release = %+v", r)
	}
	if !strings.HasPrefix(r.ID, r.OCID+"-") {
		t.Errorf("release id %s not under ocid %s", r.ID, r.OCID)
	}
}

func TestOCDSWithoutAgentOrMoney(t *testing.T) {
	p := ocdsProject(rules.Property)
	p.AgentID, p.Agent = 0, trading.Account{}
	p.Lots[1].ListingPrice = nil // not set yet: a partial sum would understate
	_, b := marshalOCDS(t, p, ocdsScenarios(rules.Property)["opening"])
	if err := validateOCDS(t, b); err != nil {
		t.Fatalf("package does not validate: %v\n%s", err, b)
	}
	r := readOCDS(t, b).Releases[0]
	// The transferor sells: the payee, never the buyer (issue 13 item 19).
	if len(r.Parties) != 1 || !slices.Equal(r.Parties[0].Roles, []string{"payee", "procuringEntity"}) ||
		r.Tender.ProcuringEntity.ID != r.Parties[0].ID || r.Buyer.ID != "" {
		t.Errorf("parties = %+v, procuringEntity = %+v", r.Parties, r.Tender.ProcuringEntity)
	}
	if r.Tender.Value != nil || r.Tender.Lots[1].Value != nil || r.Tender.Lots[0].Value == nil {
		t.Errorf("value = %+v, lots = %+v", r.Tender.Value, r.Tender.Lots)
	}
}

func TestOCDSRefusesUnpublishedAnnouncements(t *testing.T) {
	p := ocdsProject(rules.Engineering)
	draft := ocdsAnnouncement(506, trading.AnnouncementAmendment, nil)
	draft.Status = trading.AnnouncementSubmitted
	announcements := append(ocdsScenarios(rules.Engineering)["opening"], draft)
	if _, err := OCDSPackage(p, announcements, "ocds-ggzy00", "https://ggzy.example.cn", ocdsNow); !errors.Is(err, ErrOCDSInput) {
		t.Errorf("err = %v, want ErrOCDSInput", err)
	}
	noAgent := ocdsProject(rules.Engineering)
	noAgent.Agent = trading.Account{} // agent id set, agent not preloaded
	if _, err := OCDSPackage(noAgent, nil, "ocds-ggzy00", "https://ggzy.example.cn", ocdsNow); !errors.Is(err, ErrOCDSInput) {
		t.Errorf("err = %v, want ErrOCDSInput", err)
	}
	other := ocdsAnnouncement(507, trading.AnnouncementTender, ocdsAt(1, 10))
	other.ProjectID = 8
	if _, err := OCDSPackage(p, []trading.Announcement{other}, "ocds-ggzy00", "https://ggzy.example.cn", ocdsNow); !errors.Is(err, ErrOCDSInput) {
		t.Errorf("err = %v, want ErrOCDSInput", err)
	}
}

func TestOCDSAmountMarshalsExactly(t *testing.T) {
	for in, want := range map[string]string{"1234567.80": "1234567.8", "0.01": "0.01", "100": "100",
		"123456789012345678.99": "123456789012345678.99", "-5.50": "-5.5"} {
		b, err := json.Marshal(ocdsAmount(decimal.RequireFromString(in)))
		if err != nil || string(b) != want {
			t.Errorf("marshal %s = %s, %v; want %s", in, b, err, want)
		}
		var back ocdsAmount
		if err := json.Unmarshal(b, &back); err != nil || !back.Decimal().Equal(decimal.RequireFromString(in)) {
			t.Errorf("round trip %s = %s, %v", in, back.Decimal(), err)
		}
	}
	if decimal.MarshalJSONWithoutQuotes {
		t.Error("the export must not flip decimal.MarshalJSONWithoutQuotes")
	}
}

// TestOCDSAwardsAndContracts: a result announcement's release carries the award
// of each decided lot (successful with its supplier and value, or
// unsuccessful), marks the lots, and a signed contract adds a "contract"
// release; the package still validates.
func TestOCDSAwardsAndContracts(t *testing.T) {
	p := ocdsProject(rules.Engineering)
	p.Lots[0].ID, p.Lots[1].ID = 11, 12
	announcements := ocdsScenarios(rules.Engineering)["results"]
	signed := time.Date(2026, 4, 15, 0, 0, 0, 0, trading.Shanghai)
	awards := []trading.LotAward{
		{LotID: 11, ResultAnnouncementID: 505, Successful: true, SupplierID: 42, SupplierName: "福建中标建设有限公司",
			Amount: dec("1200000.00"), Date: *ocdsAt(30, 10), ContractDate: &signed, ContractAmount: dec("1199999.99")},
		{LotID: 12, ResultAnnouncementID: 505, Date: *ocdsAt(30, 10)},
	}
	pkg, err := OCDSPackageWithAwards(p, announcements, awards, "ocds-ggzy00", "https://ggzy.example.cn/", ocdsNow)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(pkg, "", "  ")
	if err := validateOCDS(t, b); err != nil {
		t.Fatalf("package does not validate: %v\n%s", err, b)
	}
	if n := len(pkg.Releases); n != 4 {
		t.Fatalf("%d releases, want opening, candidates, award, contract", n)
	}
	award, contract := pkg.Releases[2], pkg.Releases[3]
	if award.Tag[0] != "award" || len(award.Awards) != 2 || award.Awards[0].Status != "active" || award.Awards[1].Status != "unsuccessful" ||
		award.Awards[0].Value.Amount.Decimal().String() != "1200000" || award.Awards[0].Suppliers[0].Name != "福建中标建设有限公司" ||
		len(award.Contracts) != 0 {
		t.Fatalf("award release: %s", b)
	}
	if award.Tender.Lots[0].Status != "complete" || award.Tender.Lots[1].Status != "unsuccessful" {
		t.Fatalf("lot statuses: %+v", award.Tender.Lots)
	}
	if contract.Tag[0] != "contract" || len(contract.Contracts) != 1 || contract.Contracts[0].AwardID != award.Awards[0].ID ||
		contract.Contracts[0].Value.Amount.Decimal().String() != "1199999.99" {
		t.Fatalf("contract release: %s", b)
	}
	supplier := false
	for _, o := range award.Parties {
		supplier = supplier || (o.Name == "福建中标建设有限公司" && o.Roles[0] == "supplier")
	}
	if !supplier {
		t.Fatalf("supplier not among the parties: %+v", award.Parties)
	}
	// Before the result announcement nothing is awarded.
	if len(pkg.Releases[1].Awards) != 0 {
		t.Fatalf("awards before the result announcement: %+v", pkg.Releases[1].Awards)
	}
}
