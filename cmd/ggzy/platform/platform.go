// Package platform connects trading, bidding and deposits. No constructor
// touches another package's service: Wire attaches every hook between them,
// so the event flow of the whole platform reads in one function. New builds
// the three services the way cmd/ggzy does and wires them.
package platform

import (
	"context"
	"log/slog"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/bidding/auction"
	"github.com/ggzy/ggzy/deposits"
	"github.com/ggzy/ggzy/trading"
)

// Platform is the three services, wired.
type Platform struct {
	Trading  *trading.Service
	Bidding  *bidding.Service
	Deposits *deposits.Service
	Auction  *auction.Service
}

// New builds trading (on db, with clock and log), bidding (with the object
// store) and deposits (its virtual accounts numbered after vaPrefix; empty:
// deposits.DefaultPrefix), and wires them. Configuration that is only
// fields (upload limit, rates, rule-book parameters) is the caller's.
func New(db *gorm.DB, clock trading.Clock, st *trading.Storage, log *slog.Logger, vaPrefix string) *Platform {
	ts := trading.NewService(db, clock, log)
	bs := bidding.NewService(ts, st)
	ds := deposits.NewService(ts, vaPrefix)
	as := auction.NewService(ts, st)
	Wire(ts, bs, ds, as)
	return &Platform{Trading: ts, Bidding: bs, Deposits: ds, Auction: as}
}

// Wire connects every hook between trading, bidding and deposits. Every
// hook runs inside the transaction of the event, takes its ctx and tx, and
// rolls the event back with its error; hooks run in the order given here.
//
// ds and as may be nil: trading and bidding are then wired alone (the demo's
// services on a historic clock, and bidding's own tests, run so).
func Wire(ts *trading.Service, bs *bidding.Service, ds *deposits.Service, as *auction.Service) {
	// An announcement is published (trading.Service.OnPublish).
	ts.OnPublish = append(ts.OnPublish,
		bs.ReleaseDocuments, // opening announcement: the tender documents go out (K5); amendment: its clarification, registrants told
		bs.AdvanceResult,    // result announcement: the lot is awarded, sold or not sold (E13, L3) and bidding emits its OnResult event
		bs.NotifyPublished,  // candidates told of their candidacy, bidders of the result (中标通知书 / 中标结果通知书, EB12), registrants of a termination
	)
	// A project is suspended or resumed (trading.Service.OnSuspension).
	ts.OnSuspension = append(ts.OnSuspension,
		bs.NotifySuspension, // its live registrants told
	)
	// A lot fails (bidding.Service.OnResult): its registrants are told why.
	bs.OnResult = append(bs.OnResult, bs.NotifyFailure)
	// The agent is told of each application waiting for review (land, property).
	bs.OnRegister = append(bs.OnRegister, bidding.RegisterHook{Applies: bidding.NeedsReview, Run: bs.NotifyApplications})
	// An announcement is checked against the rule book before it is submitted and
	// published (trading.Service.CheckAnnouncement).
	ts.CheckAnnouncement = append(ts.CheckAnnouncement,
		bs.CheckResultAnnouncement, // candidate and result announcements come only from a lot's result record; publicity ≥ E12's days
	)
	// The OCDS export's awards (trading.Service.LotAwards): a query, read
	// outside any transaction, so it takes ctx and no tx.
	ts.LotAwards = bs.LotAwards
	// The supervisor's review page lists the documents an announcement releases.
	ts.AnnouncementDocuments = bs.AnnouncementDocuments
	// Supervision (trading.Service.Supervision): the dashboard's alerts and
	// the project timelines.
	ts.Supervision = append(ts.Supervision,
		bidding.RegistrationSource{Svc: bs}, // timelines: registrations per lot and documents, seen by supervisors only (K4, K5)
		bidding.ResultSource{Svc: bs},       // late contracts (E14, G13); timelines: opening, failure, award, contract
		trading.CalendarSource{Svc: ts},     // approved schedules an imported holiday notice broke (provisional calendar)
		bidding.SealedSource{Svc: bs},       // collusion signals of lots opened in the hall (K1, K3)
	)
	if as != nil {
		// The opening announcement of a land or property project opens the
		// online bidding of its lots (issue 15 §1).
		ts.OnPublish = append(ts.OnPublish, as.OpenLots)
		// A settled bidding goes through the result path: deal price or no
		// sale, the generated result announcement submitted for review, then (on
		// publication, AdvanceResult) L5 conversion, refunds and the savings
		// report (issue 15 §7).
		as.Settle = func(ctx context.Context, tx *gorm.DB, lotID, regID int64, price decimal.Decimal, reason, note string) error {
			_, err := bs.RecordOnlineDeal(ctx, tx, lotID, bidding.OnlineDeal{RegistrationID: regID, Price: price, Reason: reason, Note: note})
			return err
		}
	}
	if ds == nil {
		return
	}
	if as != nil {
		// Who may quote: an approved applicant whose deposit or verified
		// guarantee covers the amount (issue 15 §2).
		as.Qualified = ds.DepositCovered
		// …which decides by the database's deposit_cover alone, so a
		// quote's first statement may admit on that (one round trip fewer).
		as.QualifiedByDepositCover = true
		// The supervisors' live view shows the K1 same-payer pairs.
		as.SamePayers = ds.SamePayerPairs
	}
	ts.OnPublish = append(ts.OnPublish,
		ds.RefundTerminated, // termination announcement: every deposit of the project back with interest (D8)
		ds.MoveDeadlines,    // amendment: the deposit deadline of the lot's accounts follows its new deadline (D1)
	)
	// A registration is written (bidding.Service.OnRegister), one or a burst.
	bs.OnRegister = append(bs.OnRegister, bidding.RegisterHook{
		Applies: deposits.NeedsAccount, // lots that ask for a deposit
		Run:     ds.OpenAccounts,       // each registration its virtual sub-account (虚拟子账号), so the payer is known (D2)
	})
	// A registration is withdrawn before the deadline (bidding.Service.OnWithdraw).
	bs.OnWithdraw = append(bs.OnWithdraw,
		ds.RefundWithdrawn,   // the cash deposit back within 5 days (D6)
		ds.ReleaseGuarantees, // the guarantee (保函) released like cash (D6, D9)
	)
	// A lot's result moves: failed, awarded, contracted, sold
	// (bidding.Service.OnResult, emitted by AdvanceResult and the result steps).
	bs.OnResult = append(bs.OnResult,
		ds.SettleResult, // refunds with interest (D5, D8), procurement refunds (G6, G7), 定金 conversion of the buyer's deposit (L5), guarantees released
	)
	// Recording a land or property deal asks whether the buyer's deposit is
	// paid or guaranteed (L5: it becomes part of the price).
	bs.DepositCovered = ds.DepositCovered
	// The agent's opening-record form shows each bidder's deposit and any
	// K1 alert beside its name.
	bs.DepositStates = ds.LotDepositStates
	// "My projects" lists what waits on a bidder (bidding.Service.Waiting).
	bs.Waiting = append(bs.Waiting,
		ds.Waiting, // deposits still to pay before their deadline, not covered by a guarantee (D1, D9)
	)
	ts.Supervision = append(ts.Supervision,
		deposits.SupervisionSource{Svc: ds}, // money in suspense, third-party payments (D2), overdue refunds, one payer for several bidders (K1)
	)
}
