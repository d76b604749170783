package portal

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ggzy/ggzy/trading"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/trading/rules"
)

// The OCDS export (开放合同数据标准) publishes a project as an OCDS 1.1 release
// package: one release per published announcement. It is built from public data
// only: lots go through Lot.Public first, so the reserve price (底价) can
// never reach it (E17).
//
// Party roles, from the open partyRole codelist:
//   - engineering and procurement: the owner (招标人/采购人,
//     Project.OwnerName) is the "buyer", the one paying for the works,
//     goods or services.
//   - land and property: the owner is the transferor (出让人/转让方), the
//     one selling. It is never called "buyer": it is the "payee" (the price
//     goes to it), and release.buyer is left out. The party the award goes
//     to (竞得人/受让方) is the award's "supplier" (awards.suppliers is the
//     only place OCDS names whom an award is made to) and the "payer" (it
//     pays the price).
//   - the agent (代理机构, Project.Agent) is the "procuringEntity": it runs
//     the process. A project without an agent makes the owner the
//     procuringEntity as well.
//
// Releases and their ids: one release per event, and an id never changes
// content. A published announcement is an event (id ocid-<announcement id>): tender,
// amendment, candidates, award (result announcement), failure (流标公告),
// termination (tag tenderCancellation). A signed contract is an event of
// its own (id ocid-contract-<lot id>). Each release states the process as
// of its date, from events dated no later: later events never reach it.
// A release carries the contract of its own event only, so a second
// contract, even signed the same day, changes nothing already published.
//
// Statuses: a lot is active until its result is public, then complete
// (awarded or sold) or unsuccessful (failed, no sale); on termination the
// lots without a result are cancelled. The tender is active until every
// lot is done, then complete (at least one lot awarded) or unsuccessful
// (none); cancelled on termination.
//
// tender.lots comes from the OCDS lots extension, declared in the package's
// extensions.

// OCDSLotsExtension is the lots extension that tender.lots follows.
const OCDSLotsExtension = "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/v1.1.5/extension.json"

// ReleasePackage is an OCDS 1.1 release package.
type ReleasePackage struct {
	URI               string        `json:"uri"`
	Version           string        `json:"version"`
	Extensions        []string      `json:"extensions,omitempty"`
	PublishedDate     time.Time     `json:"publishedDate"`
	Publisher         OCDSPublisher `json:"publisher"`
	License           string        `json:"license,omitempty"`
	PublicationPolicy string        `json:"publicationPolicy,omitempty"`
	Releases          []OCDSRelease `json:"releases"`
}

// OCDSPublisher names who publishes the package.
type OCDSPublisher struct {
	Name string `json:"name"`
}

// OCDSRelease is the state of a contracting process at one announcement.
type OCDSRelease struct {
	OCID           string                     `json:"ocid"`
	ID             string                     `json:"id"`
	Date           time.Time                  `json:"date"`
	Tag            []string                   `json:"tag"`
	InitiationType string                     `json:"initiationType"`
	Language       string                     `json:"language"`
	Parties        []OCDSOrganization         `json:"parties,omitempty"`
	Buyer          *OCDSOrganizationReference `json:"buyer,omitempty"`
	Tender         *OCDSTender                `json:"tender,omitempty"`
	Awards         []OCDSAward                `json:"awards,omitempty"`
	Contracts      []OCDSContract             `json:"contracts,omitempty"`
}

// OCDSAward is the award of a lot (中标/成交), or its unsuccessful end.
type OCDSAward struct {
	ID          string                      `json:"id"`
	Title       string                      `json:"title,omitempty"`
	Status      string                      `json:"status"`
	Date        time.Time                   `json:"date"`
	Value       *OCDSValue                  `json:"value,omitempty"`
	Suppliers   []OCDSOrganizationReference `json:"suppliers,omitempty"`
	RelatedLots []string                    `json:"relatedLots,omitempty"`
}

// OCDSContract is the signed contract of an award.
type OCDSContract struct {
	ID         string     `json:"id"`
	AwardID    string     `json:"awardID"`
	Title      string     `json:"title,omitempty"`
	Status     string     `json:"status"`
	DateSigned time.Time  `json:"dateSigned"`
	Value      *OCDSValue `json:"value,omitempty"`
}

// OCDSOrganization is a party to the process.
type OCDSOrganization struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
}

// OCDSOrganizationReference points at one of the parties.
type OCDSOrganizationReference struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// OCDSTender is the tender section of a release.
type OCDSTender struct {
	ID                       string                     `json:"id"`
	Title                    string                     `json:"title,omitempty"`
	Status                   string                     `json:"status,omitempty"`
	ProcuringEntity          *OCDSOrganizationReference `json:"procuringEntity,omitempty"`
	Value                    *OCDSValue                 `json:"value,omitempty"`
	ProcurementMethod        string                     `json:"procurementMethod,omitempty"`
	ProcurementMethodDetails string                     `json:"procurementMethodDetails,omitempty"`
	MainProcurementCategory  string                     `json:"mainProcurementCategory,omitempty"`
	TenderPeriod             *OCDSPeriod                `json:"tenderPeriod,omitempty"`
	Documents                []OCDSDocument             `json:"documents,omitempty"`
	Amendments               []OCDSAmendment            `json:"amendments,omitempty"`
	Lots                     []OCDSLot                  `json:"lots,omitempty"`
}

// OCDSLot is a lot (标段/包/地块/标的), per the lots extension.
type OCDSLot struct {
	ID     string     `json:"id"`
	Title  string     `json:"title,omitempty"`
	Status string     `json:"status,omitempty"`
	Value  *OCDSValue `json:"value,omitempty"`
}

// OCDSValue is an amount of money in a currency.
type OCDSValue struct {
	Amount   ocdsAmount `json:"amount"`
	Currency string     `json:"currency"`
}

// OCDSPeriod is a span of time; either end may be unknown.
type OCDSPeriod struct {
	StartDate *time.Time `json:"startDate,omitempty"`
	EndDate   *time.Time `json:"endDate,omitempty"`
}

// OCDSDocument links a published announcement.
type OCDSDocument struct {
	ID            string    `json:"id"`
	DocumentType  string    `json:"documentType"`
	Title         string    `json:"title"`
	URL           string    `json:"url"`
	DatePublished time.Time `json:"datePublished"`
	Format        string    `json:"format"`
	Language      string    `json:"language"`
}

// OCDSAmendment records an amendment announcement (变更公告).
type OCDSAmendment struct {
	ID              string    `json:"id"`
	Date            time.Time `json:"date"`
	Rationale       string    `json:"rationale,omitempty"`
	AmendsReleaseID string    `json:"amendsReleaseID,omitempty"`
	ReleaseID       string    `json:"releaseID"`
}

// ocdsAmount is a decimal that marshals as a JSON number, as OCDS wants,
// without going through any binary approximation and without flipping
// decimal's package-wide MarshalJSONWithoutQuotes.
type ocdsAmount decimal.Decimal

// MarshalJSON writes the exact decimal, unquoted.
func (a ocdsAmount) MarshalJSON() ([]byte, error) {
	return []byte(decimal.Decimal(a).String()), nil
}

// UnmarshalJSON reads a JSON number (or a quoted one) exactly.
func (a *ocdsAmount) UnmarshalJSON(b []byte) error {
	var d decimal.Decimal
	if err := d.UnmarshalJSON(b); err != nil {
		return err
	}
	*a = ocdsAmount(d)
	return nil
}

// Decimal is the amount as a decimal.
func (a ocdsAmount) Decimal() decimal.Decimal { return decimal.Decimal(a) }

// OCDS tender statuses used here (closed tenderStatus codelist).
const (
	ocdsPlanning  = "planning"
	ocdsActive    = "active"
	ocdsCancelled = "cancelled"
)

// ErrOCDSInput is returned for a project or announcements that cannot be exported.
var ErrOCDSInput = errors.New("ocds: cannot export")

// OCDSPackage builds the OCDS release package of a project: p with Lots,
// Region and Agent loaded; announcements are the project's published
// announcements in publication order. prefix is the registered ocid prefix
// (e.g. "ocds-ggzy00"), baseURL the site root; now dates the package and
// the planning release when nothing is published yet.
func OCDSPackage(p *trading.Project, announcements []trading.Announcement, prefix, baseURL string, now time.Time) (*ReleasePackage, error) {
	return OCDSPackageWithAwards(p, announcements, nil, prefix, baseURL, now)
}

// OCDSPackageWithAwards is OCDSPackage with the lots' results: each result
// announcement's release carries the awards so far (tag "award"), and signed
// contracts add a release of their own (tag "contract").
func OCDSPackageWithAwards(p *trading.Project, announcements []trading.Announcement, awards []trading.LotAward, prefix, baseURL string, now time.Time) (*ReleasePackage, error) {
	if p == nil || p.Code == "" || prefix == "" {
		return nil, fmt.Errorf("%w: project, project code and ocid prefix are required", ErrOCDSInput)
	}
	if p.AgentID != 0 && p.Agent.ID != p.AgentID {
		return nil, fmt.Errorf("%w: project %s: agent %d not loaded", ErrOCDSInput, p.Code, p.AgentID)
	}
	baseURL = strings.TrimRight(baseURL, "/")
	for i := range announcements {
		n := &announcements[i]
		if n.Status != trading.AnnouncementPublished || n.PublishedAt == nil {
			return nil, fmt.Errorf("%w: announcement %d is not published", ErrOCDSInput, n.ID)
		}
		if n.ProjectID != 0 && p.ID != 0 && n.ProjectID != p.ID {
			return nil, fmt.Errorf("%w: announcement %d belongs to project %d, not %d", ErrOCDSInput, n.ID, n.ProjectID, p.ID)
		}
	}
	announcements = slices.Clone(announcements)
	slices.SortStableFunc(announcements, func(a, b trading.Announcement) int { return a.PublishedAt.Compare(*b.PublishedAt) })

	x := newOCDSExport(p, prefix, baseURL)
	pkg := &ReleasePackage{
		URI:           baseURL + "/api/v1/projects/" + url.PathEscape(p.Code) + "/ocds",
		Version:       "1.1",
		Extensions:    []string{OCDSLotsExtension},
		PublishedDate: ocdsTime(now),
		Publisher:     OCDSPublisher{Name: "ggzy 公共资源交易平台"},
	}
	if len(announcements) == 0 {
		status := ocdsPlanning
		if p.Status == trading.ProjectTerminated {
			status = ocdsCancelled
		}
		r := x.release(x.ocid+"-planning", now, []string{"planning"}, status)
		pkg.Releases = append(pkg.Releases, r)
		return pkg, nil
	}

	var docs []OCDSDocument
	var amendments []OCDSAmendment
	prevID := ""
	var cancelledAt *time.Time
	for i := range announcements {
		n := &announcements[i]
		at := *n.PublishedAt
		id := x.ocid + "-" + strconv.FormatInt(n.ID, 10)
		docs = append(docs, x.document(n))
		var tag []string
		switch {
		case n.Type.IsOpening():
			tag = []string{"tender"}
		case n.Type == trading.AnnouncementAmendment:
			tag = []string{"tenderAmendment"}
			amendments = append(amendments, OCDSAmendment{ID: strconv.FormatInt(n.ID, 10),
				Date: ocdsTime(at), Rationale: n.Title, AmendsReleaseID: prevID, ReleaseID: id})
		case n.Type == trading.AnnouncementTermination:
			tag = []string{"tenderCancellation"}
			if cancelledAt == nil {
				cancelledAt = &at
			}
		case n.Type == trading.AnnouncementResult:
			tag = []string{"award"}
		case n.Type == trading.AnnouncementFailure:
			tag = []string{"tenderUpdate"}
			for _, a := range awards {
				if a.FailureAnnouncementID == n.ID && !a.Date.IsZero() && a.Successful {
					tag = append(tag, "awardCancellation") // the winner would not sign
				}
			}
		case n.Type == trading.AnnouncementContract:
			tag = []string{"contract"}
		default:
			tag = []string{"tenderUpdate"}
		}
		r := x.release(id, at, tag, ocdsActive)
		r.Tender.Documents = slices.Clone(docs)
		r.Tender.Amendments = slices.Clone(amendments)
		x.addAwards(&r, awards, at, cancelledAt)
		pkg.Releases = append(pkg.Releases, r)
		prevID = id
	}
	// A signed contract is an event of its own, dated when it was signed
	// (never before its award): one release per contract, carrying that
	// contract only.
	for _, a := range awards {
		if a.ContractDate == nil || a.Date.IsZero() || !a.Successful {
			continue
		}
		at := *a.ContractDate
		if at.Before(a.Date) {
			at = a.Date
		}
		lotID := strconv.FormatInt(a.LotID, 10)
		r := x.release(x.ocid+"-contract-"+lotID, at, []string{"contract"}, ocdsActive)
		r.Tender.Documents = docsUntil(docs, at)
		r.Tender.Amendments = amendmentsUntil(amendments, at)
		x.addAwards(&r, awards, at, before(cancelledAt, at))
		c := OCDSContract{ID: x.ocid + "-contract-" + lotID, AwardID: x.ocid + "-award-" + lotID, Status: "active", DateSigned: ocdsTime(*a.ContractDate)}
		for _, l := range r.Tender.Lots {
			if l.ID == lotID {
				c.Title = l.Title
			}
		}
		if amt := cmp.Or(a.ContractAmount, a.Amount); amt != nil {
			c.Value = &OCDSValue{Amount: ocdsAmount(*amt), Currency: "CNY"}
		}
		r.Contracts = []OCDSContract{c}
		pkg.Releases = append(pkg.Releases, r)
	}
	slices.SortStableFunc(pkg.Releases, func(a, b OCDSRelease) int { return a.Date.Compare(b.Date) })
	pkg.PublishedDate = pkg.Releases[len(pkg.Releases)-1].Date
	return pkg, nil
}

// before is t if it is not after at, else nil.
func before(t *time.Time, at time.Time) *time.Time {
	if t != nil && !t.After(at) {
		return t
	}
	return nil
}

func docsUntil(docs []OCDSDocument, at time.Time) []OCDSDocument {
	var out []OCDSDocument
	for _, d := range docs {
		if !d.DatePublished.After(at) {
			out = append(out, d)
		}
	}
	return out
}

func amendmentsUntil(am []OCDSAmendment, at time.Time) []OCDSAmendment {
	var out []OCDSAmendment
	for _, a := range am {
		if !a.Date.After(at) {
			out = append(out, a)
		}
	}
	return out
}

// addAwards puts into r the process as of at: the awards published by
// then (an award of a lot failed since is cancelled), the lots' statuses
// and the tender's, and the suppliers among the parties. cancelled is when
// the project was terminated, if it was by at.
func (x *ocdsExport) addAwards(r *OCDSRelease, awards []trading.LotAward, at time.Time, cancelled *time.Time) {
	state := map[string]string{} // lot id → complete or unsuccessful
	for _, a := range awards {
		lotID := strconv.FormatInt(a.LotID, 10)
		failed := a.FailedAt != nil && !a.FailedAt.After(at)
		awarded := !a.Date.IsZero() && !a.Date.After(at)
		if failed {
			state[lotID] = "unsuccessful"
		} else if awarded {
			state[lotID] = map[bool]string{true: "complete", false: "unsuccessful"}[a.Successful]
		}
		if !awarded {
			continue
		}
		aw := OCDSAward{ID: x.ocid + "-award-" + lotID, Date: ocdsTime(a.Date), RelatedLots: []string{lotID}, Status: "unsuccessful"}
		for i := range r.Tender.Lots {
			if r.Tender.Lots[i].ID == lotID {
				aw.Title = r.Tender.Lots[i].Title
			}
		}
		if a.Successful {
			aw.Status = "active"
			if failed {
				aw.Status = "cancelled"
			}
			if a.Amount != nil {
				aw.Value = &OCDSValue{Amount: ocdsAmount(*a.Amount), Currency: "CNY"}
			}
			sup := OCDSOrganizationReference{ID: x.prefix + "-bidder-" + strconv.FormatInt(a.SupplierID, 10), Name: a.SupplierName}
			aw.Suppliers = []OCDSOrganizationReference{sup}
			roles := []string{"supplier"}
			if x.sale() {
				roles = append(roles, "payer")
			}
			if !slices.ContainsFunc(r.Parties, func(o OCDSOrganization) bool { return o.ID == sup.ID }) {
				r.Parties = append(r.Parties, OCDSOrganization{ID: sup.ID, Name: sup.Name, Roles: roles})
			}
		}
		r.Awards = append(r.Awards, aw)
	}
	done, success := 0, false
	for i := range r.Tender.Lots {
		l := &r.Tender.Lots[i]
		switch st := state[l.ID]; {
		case st != "":
			l.Status = st
			done++
			success = success || st == "complete"
		case cancelled != nil:
			l.Status = ocdsCancelled
		default:
			l.Status = ocdsActive
		}
	}
	switch {
	case cancelled != nil:
		r.Tender.Status = ocdsCancelled
	case len(r.Tender.Lots) > 0 && done == len(r.Tender.Lots) && success:
		r.Tender.Status = "complete"
	case len(r.Tender.Lots) > 0 && done == len(r.Tender.Lots):
		r.Tender.Status = "unsuccessful"
	default:
		r.Tender.Status = ocdsActive
	}
}

// sale tells land and property: the owner sells.
func (x *ocdsExport) sale() bool { return x.p.Category == rules.Land || x.p.Category == rules.Property }

// ocdsExport holds what every release of one project shares.
type ocdsExport struct {
	p        *trading.Project
	prefix   string
	lots     []trading.PublicLot // never Lot: the reserve price stays out (E17)
	ocid     string
	baseURL  string
	parties  []OCDSOrganization
	buyer    OCDSOrganizationReference
	procurer OCDSOrganizationReference
}
