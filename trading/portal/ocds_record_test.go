package portal

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/rules"
)

// ocdsReleaseSchema validates one release (a compiled release) against the
// official OCDS 1.1.5 release schema in testdata.
var ocdsReleaseSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.AssertFormat()
	c.UseLoader(offlineLoader{})
	f, err := os.Open(filepath.Join("testdata", "ocds", "release-schema.json"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	if err := c.AddResource(ocdsReleaseSchemaURL, doc); err != nil {
		return nil, err
	}
	return c.Compile(ocdsReleaseSchemaURL)
})

// ocdsStage is a project's public history up to one moment.
type ocdsStage struct {
	name          string
	announcements []trading.Announcement
	awards        []trading.LotAward
}

// ocdsStages takes an engineering project with lots 101 and 102 through
// every stage: opening, amendment, candidates, lot 101 awarded, lot 102
// failed (E7), lot 101's contract; then a termination-free end.
func ocdsStages() []ocdsStage {
	open := ocdsAnnouncement(501, trading.AnnouncementTender, ocdsAt(1, 10))
	amend := ocdsAnnouncement(502, trading.AnnouncementAmendment, ocdsAt(6, 15))
	amend.AmendsID = &open.ID
	cand := ocdsAnnouncement(504, trading.AnnouncementCandidates, ocdsAt(26, 10))
	result := ocdsAnnouncement(505, trading.AnnouncementResult, ocdsAt(30, 10))
	failure := ocdsAnnouncement(506, trading.AnnouncementFailure, ocdsAt(31, 9))
	award := trading.LotAward{LotID: 101, ResultAnnouncementID: 505, Successful: true, SupplierID: 42, SupplierName: "福建中标建设有限公司",
		Amount: dec("1200000.00"), Date: *ocdsAt(30, 10)}
	failed := trading.LotAward{LotID: 102, FailureAnnouncementID: 506, FailedAt: ocdsAt(31, 9), FailedRule: "E7", FailedReason: "投标人不足3个"}
	signed := award
	d := time.Date(2026, 4, 15, 0, 0, 0, 0, trading.Shanghai)
	signed.ContractDate, signed.ContractAmount = &d, dec("1199999.99")
	return []ocdsStage{
		{"opening", []trading.Announcement{open}, nil},
		{"amendment", []trading.Announcement{open, amend}, nil},
		{"candidates", []trading.Announcement{open, amend, cand}, nil},
		{"award", []trading.Announcement{open, amend, cand, result}, []trading.LotAward{award}},
		{"failure", []trading.Announcement{open, amend, cand, result, failure}, []trading.LotAward{award, failed}},
		{"contract", []trading.Announcement{open, amend, cand, result, failure}, []trading.LotAward{signed, failed}},
	}
}

func exportOCDS(t *testing.T, p *trading.Project, st ocdsStage) (*ReleasePackage, map[string][]byte) {
	t.Helper()
	pkg, err := OCDSPackageWithAwards(p, st.announcements, st.awards, "ocds-ggzy00", "https://ggzy.example.cn", ocdsNow)
	if err != nil {
		t.Fatalf("%s: %v", st.name, err)
	}
	b, _ := json.Marshal(pkg)
	if err := validateOCDS(t, b); err != nil {
		t.Fatalf("%s: package does not validate: %v\n%s", st.name, err, b)
	}
	byID := map[string][]byte{}
	for _, r := range pkg.Releases {
		rb, _ := json.Marshal(r)
		if _, dup := byID[r.ID]; dup {
			t.Fatalf("%s: release id %s twice", st.name, r.ID)
		}
		byID[r.ID] = rb
	}
	return pkg, byID
}

// Issue 13 item 17: a release, once published, never changes. Every
// release of every stage is found, byte for byte, in every later stage.
func TestOCDSReleaseIDsAreImmutable(t *testing.T) {
	t.Parallel()
	p := ocdsProject(rules.Engineering)
	p.Lots[0].ID, p.Lots[1].ID = 101, 102
	var before map[string][]byte
	for _, st := range ocdsStages() {
		_, now := exportOCDS(t, p, st)
		for id, b := range before {
			if !bytes.Equal(now[id], b) {
				t.Fatalf("%s: release %s changed:\nwas %s\nnow %s", st.name, id, b, now[id])
			}
		}
		before = now
	}

	// Two contracts signed the same day: each its own release, and the
	// second changes nothing of the first.
	day := time.Date(2026, 4, 15, 0, 0, 0, 0, trading.Shanghai)
	a1 := trading.LotAward{LotID: 101, ResultAnnouncementID: 505, Successful: true, SupplierID: 42, SupplierName: "甲公司",
		Amount: dec("1200000.00"), Date: *ocdsAt(30, 10), ContractDate: &day}
	a2 := trading.LotAward{LotID: 102, ResultAnnouncementID: 505, Successful: true, SupplierID: 43, SupplierName: "乙公司",
		Amount: dec("1900000.00"), Date: *ocdsAt(30, 10)}
	announcements := ocdsScenarios(rules.Engineering)["results"]
	_, one := exportOCDS(t, p, ocdsStage{"one contract", announcements, []trading.LotAward{a1, a2}})
	a2.ContractDate = &day
	pkg, two := exportOCDS(t, p, ocdsStage{"two contracts", announcements, []trading.LotAward{a1, a2}})
	for id, b := range one {
		if !bytes.Equal(two[id], b) {
			t.Fatalf("release %s changed by a second contract the same day:\nwas %s\nnow %s", id, b, two[id])
		}
	}
	contracts := 0
	for _, r := range pkg.Releases {
		if slices.Equal(r.Tag, []string{"contract"}) {
			contracts++
			if len(r.Contracts) != 1 {
				t.Fatalf("contract release %s carries %d contracts", r.ID, len(r.Contracts))
			}
		}
	}
	if contracts != 2 {
		t.Fatalf("%d contract releases, want one per contract", contracts)
	}
}

// Issue 13 item 18: failed lots are unsuccessful; the tender is complete
// once every lot is done, unsuccessful if none succeeded; a land no-sale
// is an unsuccessful award; and item 19: the transferor is not a buyer.
func TestOCDSFailuresAndNoSales(t *testing.T) {
	t.Parallel()
	p := ocdsProject(rules.Engineering)
	p.Lots[0].ID, p.Lots[1].ID = 101, 102
	stages := ocdsStages()
	pkg, _ := exportOCDS(t, p, stages[4])
	last := pkg.Releases[len(pkg.Releases)-1]
	if last.ID != "ocds-ggzy00-"+p.Code+"-506" || !slices.Equal(last.Tag, []string{"tenderUpdate"}) {
		t.Fatalf("failure release = %s %v", last.ID, last.Tag)
	}
	if last.Tender.Lots[0].Status != "complete" || last.Tender.Lots[1].Status != "unsuccessful" || last.Tender.Status != "complete" {
		t.Fatalf("after the failure: tender %s, lots %+v", last.Tender.Status, last.Tender.Lots)
	}
	if award := pkg.Releases[len(pkg.Releases)-2]; award.Tender.Status != "active" || award.Tender.Lots[1].Status != "active" {
		t.Fatalf("before the failure: tender %s, lots %+v", award.Tender.Status, award.Tender.Lots)
	}

	// Every lot failed: the tender is unsuccessful.
	both := stages[4]
	both.announcements = []trading.Announcement{both.announcements[0], both.announcements[4]}
	both.awards = []trading.LotAward{
		{LotID: 101, FailureAnnouncementID: 506, FailedAt: ocdsAt(31, 9), FailedRule: "E7"},
		{LotID: 102, FailureAnnouncementID: 506, FailedAt: ocdsAt(31, 9), FailedRule: "E7"}}
	pkg, _ = exportOCDS(t, p, both)
	if r := pkg.Releases[len(pkg.Releases)-1]; r.Tender.Status != "unsuccessful" || r.Tender.Lots[0].Status != "unsuccessful" || len(r.Awards) != 0 {
		t.Fatalf("all failed: tender %s, lots %+v, awards %+v", r.Tender.Status, r.Tender.Lots, r.Awards)
	}

	// Land: one lot sold, one no sale (L10).
	land := ocdsProject(rules.Land)
	land.Lots[0].ID, land.Lots[1].ID = 101, 102
	sold := trading.LotAward{LotID: 101, ResultAnnouncementID: 505, Successful: true, SupplierID: 44, SupplierName: "某置业有限公司",
		Amount: dec("31000000"), Date: *ocdsAt(30, 10)}
	noSale := trading.LotAward{LotID: 102, ResultAnnouncementID: 507, Date: *ocdsAt(30, 11)}
	anns := append(ocdsScenarios(rules.Land)["results"], ocdsAnnouncement(507, trading.AnnouncementResult, ocdsAt(30, 11)))
	pkg, _ = exportOCDS(t, land, ocdsStage{"land", anns, []trading.LotAward{sold, noSale}})
	r := pkg.Releases[len(pkg.Releases)-1]
	if len(r.Awards) != 2 || r.Awards[1].Status != "unsuccessful" || r.Awards[1].RelatedLots[0] != "102" ||
		r.Tender.Lots[1].Status != "unsuccessful" || r.Tender.Status != "complete" {
		t.Fatalf("land no-sale: awards %+v, lots %+v, tender %s", r.Awards, r.Tender.Lots, r.Tender.Status)
	}
	if r.Buyer != nil {
		t.Fatalf("land release names a buyer: %+v", r.Buyer)
	}
	for _, o := range r.Parties {
		if slices.Contains(o.Roles, "buyer") {
			t.Fatalf("party %s (%s) is called buyer in a land sale", o.Name, o.ID)
		}
		if o.Name == land.OwnerName && !slices.Contains(o.Roles, "payee") {
			t.Fatalf("the transferor's roles: %v", o.Roles)
		}
		if o.Name == "某置业有限公司" && !slices.Equal(o.Roles, []string{"supplier", "payer"}) {
			t.Fatalf("the land buyer's roles: %v", o.Roles)
		}
	}
}

// Issue 13 item 20: the compiled record of a project's releases, at every
// stage, validates and shows each lot's state; at the end, lot 101
// awarded with its contract, lot 102 failed, the tender complete. A lot
// awarded and then failed (the winner would not sign) ends unsuccessful,
// its award cancelled.
func TestOCDSCompiledRecord(t *testing.T) {
	t.Parallel()
	p := ocdsProject(rules.Engineering)
	p.Lots[0].ID, p.Lots[1].ID = 101, 102
	type lotState struct{ status, award string }
	want := map[string][2]lotState{
		"opening":    {{"active", ""}, {"active", ""}},
		"amendment":  {{"active", ""}, {"active", ""}},
		"candidates": {{"active", ""}, {"active", ""}},
		"award":      {{"complete", "active"}, {"active", ""}},
		"failure":    {{"complete", "active"}, {"unsuccessful", ""}},
		"contract":   {{"complete", "active"}, {"unsuccessful", ""}},
	}
	for _, st := range ocdsStages() {
		pkg, _ := exportOCDS(t, p, st)
		c := compiledOf(t, pkg)
		for i, lot := range c.Tender.Lots {
			w := want[st.name][i]
			award := ""
			for _, a := range c.Awards {
				if slices.Contains(a.RelatedLots, lot.ID) {
					award = a.Status
				}
			}
			if lot.Status != w.status || award != w.award {
				t.Errorf("%s: lot %s = %s (award %q), want %s (award %q)", st.name, lot.ID, lot.Status, award, w.status, w.award)
			}
		}
		if st.name == "contract" {
			if c.Tender.Status != "complete" || len(c.Contracts) != 1 || c.Contracts[0].Status != "active" ||
				c.Contracts[0].Value.Amount.Decimal().String() != "1199999.99" || len(c.Tender.Documents) != 5 || len(c.Tender.Amendments) != 1 {
				t.Errorf("final record: tender %s, contracts %+v, %d documents", c.Tender.Status, c.Contracts, len(c.Tender.Documents))
			}
		}
	}

	// Awarded, then failed: the winner would not sign.
	st := ocdsStages()[4]
	st.awards = []trading.LotAward{st.awards[0], st.awards[1]}
	st.awards[0].FailureAnnouncementID, st.awards[0].FailedAt = 506, ocdsAt(31, 9)
	pkg, _ := exportOCDS(t, p, st)
	c := compiledOf(t, pkg)
	if c.Tender.Lots[0].Status != "unsuccessful" || c.Awards[0].Status != "cancelled" || c.Tender.Status != "unsuccessful" {
		t.Fatalf("awarded then failed: lots %+v, awards %+v, tender %s", c.Tender.Lots, c.Awards, c.Tender.Status)
	}
	if r := pkg.Releases[len(pkg.Releases)-1]; !slices.Contains(r.Tag, "awardCancellation") {
		t.Fatalf("failure release of an awarded lot: tags %v", r.Tag)
	}
}

// compiledOf compiles pkg, validates the compiled release against the
// release schema and reads it back.
func compiledOf(t *testing.T, pkg *ReleasePackage) OCDSRelease {
	t.Helper()
	rec, err := OCDSRecordPackage(pkg, pkg.URI+"/record")
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Records) != 1 || len(rec.Records[0].Releases) != len(pkg.Releases) {
		t.Fatalf("record package: %+v", rec)
	}
	b, err := json.Marshal(rec.Records[0].CompiledRelease)
	if err != nil {
		t.Fatal(err)
	}
	sch, err := ocdsReleaseSchema()
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("compiled release does not validate: %v\n%s", err, b)
	}
	var c OCDSRelease
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Tag, []string{"compiled"}) || c.ID != c.OCID+"-compiled" || !c.Date.Equal(pkg.Releases[len(pkg.Releases)-1].Date) {
		t.Fatalf("compiled release header: %s %v %s", c.ID, c.Tag, c.Date)
	}
	return c
}
