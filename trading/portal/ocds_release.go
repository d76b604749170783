package portal

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/ggzy/ggzy/trading"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/trading/rules"
)

func newOCDSExport(p *trading.Project, prefix, baseURL string) *ocdsExport {
	x := &ocdsExport{p: p, prefix: prefix, ocid: prefix + "-" + p.Code, baseURL: baseURL}
	for i := range p.Lots {
		x.lots = append(x.lots, p.Lots[i].Public())
	}
	slices.SortStableFunc(x.lots, func(a, b trading.PublicLot) int {
		return cmp.Or(cmp.Compare(a.Seq, b.Seq), cmp.Compare(a.ID, b.ID))
	})
	// Party ids are stable across releases and exports: the owner has no
	// account, so it is named after the process; the agent is an account.
	owner := OCDSOrganization{ID: x.ocid + "-owner", Name: p.OwnerName, Roles: []string{"buyer"}}
	if x.sale() {
		owner.Roles = []string{"payee"} // the transferor sells: never "buyer"
	}
	x.buyer = OCDSOrganizationReference{ID: owner.ID, Name: owner.Name}
	if p.AgentID != 0 {
		agent := OCDSOrganization{ID: prefix + "-agent-" + strconv.FormatInt(p.AgentID, 10),
			Name: p.Agent.DisplayName, Roles: []string{"procuringEntity"}}
		x.parties = []OCDSOrganization{owner, agent}
		x.procurer = OCDSOrganizationReference{ID: agent.ID, Name: agent.Name}
	} else {
		owner.Roles = append(owner.Roles, "procuringEntity")
		x.parties = []OCDSOrganization{owner}
		x.procurer = x.buyer
	}
	return x
}

// release is one release with the tender as it stands; the lots are the
// current ones (amendments change them in place, and the amendment announcements
// carry the history).
func (x *ocdsExport) release(id string, date time.Time, tag []string, status string) OCDSRelease {
	buyer, procurer := x.buyer, x.procurer
	t := &OCDSTender{
		ID:                       x.p.Code,
		Title:                    x.p.Title,
		Status:                   status,
		ProcuringEntity:          &procurer,
		ProcurementMethod:        "open",
		ProcurementMethodDetails: x.methodDetails(),
		TenderPeriod:             x.tenderPeriod(),
	}
	if x.p.Category == rules.Engineering {
		// Goods or services cannot be told apart for procurement, and land
		// and property are not procurement at all: left out.
		t.MainProcurementCategory = "works"
	}
	sum, complete := decimal.Zero, len(x.lots) > 0
	for i := range x.lots {
		l := &x.lots[i]
		ol := OCDSLot{ID: strconv.FormatInt(l.ID, 10), Title: l.Name, Status: status}
		if amt := ocdsLotAmount(x.p.Category, l); amt != nil {
			ol.Value = &OCDSValue{Amount: ocdsAmount(*amt), Currency: "CNY"}
			sum = sum.Add(*amt)
		} else {
			complete = false
		}
		t.Lots = append(t.Lots, ol)
	}
	// A sum missing a lot would understate the process: no value then.
	if complete {
		t.Value = &OCDSValue{Amount: ocdsAmount(sum), Currency: "CNY"}
	}
	r := OCDSRelease{
		OCID:           x.ocid,
		ID:             id,
		Date:           ocdsTime(date),
		Tag:            tag,
		InitiationType: "tender",
		Language:       "zh",
		Parties:        clonePartiesDeep(x.parties),
		Buyer:          &buyer,
		Tender:         t,
	}
	if x.sale() {
		r.Buyer = nil // the transferor is not a buyer
	}
	return r
}

func clonePartiesDeep(ps []OCDSOrganization) []OCDSOrganization {
	out := slices.Clone(ps)
	for i := range out {
		out[i].Roles = slices.Clone(out[i].Roles)
	}
	return out
}

// ocdsLotAmount is the category's headline money of a lot: the control
// price (engineering, published by E17), the budget (procurement), the
// starting price (land) or the listing price (property).
func ocdsLotAmount(c trading.Category, l *trading.PublicLot) *decimal.Decimal {
	switch c {
	case rules.Engineering:
		return l.ControlPrice
	case rules.Procurement:
		return l.Budget
	case rules.Land:
		return l.StartingPrice
	case rules.Property:
		return l.ListingPrice
	}
	return nil
}

// methodDetails names the method the way the announcements do.
func (x *ocdsExport) methodDetails() string {
	switch x.p.Category {
	case rules.Engineering, rules.Procurement:
		return "公开招标"
	case rules.Land:
		listing, auction := false, false
		for i := range x.lots {
			listing = listing || x.lots[i].ListingStart != nil || x.lots[i].ListingEnd != nil
			auction = auction || x.lots[i].AuctionAt != nil
		}
		switch {
		case listing:
			return "公开挂牌出让"
		case auction:
			return "公开拍卖出让"
		}
		return "公开出让"
	case rules.Property:
		return "公开挂牌转让"
	}
	return ""
}

// tenderPeriod runs from the earliest document issue (or listing) start to
// the latest bid deadline, listing end or auction.
func (x *ocdsExport) tenderPeriod() *OCDSPeriod {
	var start, end *time.Time
	for i := range x.lots {
		l := &x.lots[i]
		for _, s := range []*time.Time{l.DocIssueStart, l.ListingStart} {
			if s != nil && (start == nil || s.Before(*start)) {
				start = s
			}
		}
		for _, e := range []*time.Time{l.BidDeadline, l.ListingEnd, l.AuctionAt} {
			if e != nil && (end == nil || e.After(*end)) {
				end = e
			}
		}
	}
	if start == nil && end == nil {
		return nil
	}
	pp := &OCDSPeriod{}
	if start != nil {
		s := ocdsTime(*start)
		pp.StartDate = &s
	}
	if end != nil {
		e := ocdsTime(*end)
		pp.EndDate = &e
	}
	return pp
}

// document links an announcement, typed from the open documentType codelist.
func (x *ocdsExport) document(n *trading.Announcement) OCDSDocument {
	typ := "tenderNotice"
	switch n.Type {
	case trading.AnnouncementAmendment:
		typ = "clarifications"
	case trading.AnnouncementCandidates:
		typ = "evaluationReports" // 中标候选人公示: the ranked evaluation result
	case trading.AnnouncementResult:
		typ = "awardNotice"
	case trading.AnnouncementTermination, trading.AnnouncementFailure:
		typ = "cancellationDetails"
	case trading.AnnouncementContract:
		typ = "contractNotice"
	case trading.AnnouncementOpening:
		typ = "bidders" // 开标记录公告: who bid, at what price (EB7)
	}
	title := n.Title
	if title == "" {
		title = n.Type.Name()
	}
	return OCDSDocument{
		ID:            strconv.FormatInt(n.ID, 10),
		DocumentType:  typ,
		Title:         title,
		URL:           x.baseURL + "/notices/" + strconv.FormatInt(n.ID, 10),
		DatePublished: ocdsTime(*n.PublishedAt),
		Format:        "text/html",
		Language:      "zh",
	}
}

// ocdsTime shows a time in Beijing time, whole seconds: it marshals as
// RFC 3339 with the +08:00 offset.
func ocdsTime(t time.Time) time.Time { return t.In(trading.Shanghai).Truncate(time.Second) }
