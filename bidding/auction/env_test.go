package auction_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/bidding/auction"
	"github.com/ggzy/ggzy/cmd/ggzy/platform/platformtest"
	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/deposits"
	"github.com/ggzy/ggzy/trading"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// env is the whole platform (platformtest) with one published land or
// property lot bid online, and helpers to move both clocks: the services'
// and the database's deciding clock (ggzy_now, frozen).
type env struct {
	*platformtest.Env
	t     *testing.T
	ctx   context.Context
	Agent trading.Actor
	Sup   trading.Actor
	Lot   int64
	n     int
}

func sh(m time.Month, d, h, min, s int) time.Time {
	return time.Date(2026, m, d, h, min, s, 0, trading.Shanghai)
}

// Listing: 23 March 09:00 – 8 April 16:00; L12 refuses quotes from 15:00.
var (
	listingStart = sh(3, 23, 9, 0, 0)
	listingEnd   = sh(4, 8, 16, 0, 0)
)

func landLot(mode string) trading.LotInput {
	return trading.LotInput{Name: "榕土2026-15号地块", StartingPrice: "5000000.00", ReservePrice: "5600000.00", Increment: "100000.00",
		Deposit: "1000000.00", ListingStart: listingStart.Format(time.RFC3339), ListingEnd: listingEnd.Format(time.RFC3339), BiddingMode: mode}
}

func newEnv(t *testing.T, lot trading.LotInput) *env {
	t.Helper()
	return newEnvOn(t, platformtest.New(t), lot)
}

// newEnvOn is newEnv on a platform already built (two instances share one
// database: instances_test.go).
func newEnvOn(t *testing.T, pe *platformtest.Env, lot trading.LotInput) *env {
	t.Helper()
	e := &env{Env: pe, t: t, ctx: context.Background()}
	e.Agent = e.staff(trading.RoleAgent, "daili")
	e.Sup = e.staff(trading.RoleSupervisor, "jiandu")
	cat := trading.Category("land")
	if lot.ListingPrice != "" {
		cat = "property"
	}
	e.at(platformtest.Start)
	p, err := e.Trading.CreateProject(e.ctx, e.Agent, trading.ProjectInput{Category: cat, Title: "网上竞价测试项目", OwnerName: "福州市自然资源局",
		RegionCode: "350100", Lots: []trading.LotInput{lot}})
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.Trading.DraftAnnouncement(e.ctx, e.Agent, p.Code, trading.AnnouncementInput{Type: "listing", Title: "网上挂牌出让公告", Body: "正文"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Trading.SubmitAnnouncement(e.ctx, e.Agent, n.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Trading.ApproveAnnouncement(e.ctx, e.Sup, n.ID, nil); err != nil {
		t.Fatal(err)
	}
	e.Lot = p.Lots[0].ID
	return e
}

func (e *env) staff(role trading.Role, name string) trading.Actor {
	acc, err := e.Trading.CreateAccount(e.ctx, trading.SystemActor, trading.NewAccount{Role: role, Username: name, Password: "pass12345"})
	if err != nil {
		e.t.Fatal(err)
	}
	return trading.Actor{AccountID: acc.ID, Username: name, Role: role}
}

// at sets both clocks to t: the services' and the database's (frozen).
func (e *env) at(t time.Time) {
	e.t.Helper()
	e.Clock.Set(t)
	if err := trading.FreezeDBClock(e.ctx, e.Trading.DB, t); err != nil {
		e.t.Fatal(err)
	}
}

// creditCode is the unified social credit code of the n-th bidder an env
// signs up (so a lot can name one before it exists: the P7 holder).
func creditCode(n int) string {
	body := fmt.Sprintf("91350100MA%06dX", n)
	const cs = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	w := []int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(cs, body[i]) * w[i]
	}
	return body + string(cs[(31-sum%31)%31])
}

// bidder signs up, registers, is approved and pays its deposit when paid.
func (e *env) bidder(name string, paid bool) trading.Actor {
	e.t.Helper()
	return e.applicant(name, true, paid)
}

// applicant signs up and registers; the agent approves the application
// when approved (a post-qualified lot is bid without it), and the deposit
// is paid when paid.
func (e *env) applicant(name string, approved, paid bool) trading.Actor {
	e.t.Helper()
	e.n++
	acc, err := e.Trading.SignUpBidder(e.ctx, trading.SystemActor, trading.SignUp{Kind: trading.BidderEnterprise, Name: name,
		IDNumber: creditCode(e.n), LegalRep: "张三", Phone: "13800138000", Email: fmt.Sprintf("b%d@example.com", e.n),
		Username: fmt.Sprintf("bidder%d", e.n), Password: "pass12345"})
	if err != nil {
		e.t.Fatal(err)
	}
	a := trading.Actor{AccountID: acc.ID, Username: acc.Username, Role: trading.RoleBidder, IP: fmt.Sprintf("10.0.0.%d", e.n)}
	reg, err := e.Bidding.Register(e.ctx, a, e.Lot, bidding.RegisterInput{ContactName: "王五", ContactPhone: "13900000000"})
	if err != nil {
		e.t.Fatal(err)
	}
	if approved {
		if err := e.Bidding.Review(e.ctx, e.Agent, reg.ID, true, ""); err != nil {
			e.t.Fatal(err)
		}
	}
	if paid {
		var va deposits.VirtualAccount
		if err := e.Deposits.DB.Where("registration_id = ?", reg.ID).First(&va).Error; err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.Deposits.Receive(e.ctx, trading.Actor{Username: "bank", Role: "system"}, deposits.SourceWebhook, []deposits.Inflow{{
			BankTxnID: fmt.Sprintf("T%d", e.n), VirtualAccount: va.Number, PayerName: name, PayerAccount: fmt.Sprintf("6222%06d", e.n),
			PayerBank: "某银行", Amount: decimal.RequireFromString("1000000.00"), Currency: "CNY", ValueTime: e.Clock.Now()}}); err != nil {
			e.t.Fatal(err)
		}
	}
	return a
}

// keyN numbers the idempotency keys; atomic, as the tests run in parallel
// (a plain int raced, and failed the race detector in a full run).
var keyN atomic.Int64

// quote sends a quote with a fresh idempotency key.
func (e *env) quote(a trading.Actor, amount string) (*auction.QuoteResult, error) {
	return e.Auction.Quote(e.ctx, a, e.Lot, auction.QuoteInput{Amount: amount, Key: fmt.Sprintf("k%d", keyN.Add(1))})
}

func (e *env) mustQuote(a trading.Actor, amount string) *auction.QuoteResult {
	e.t.Helper()
	r, err := e.quote(a, amount)
	if err != nil {
		e.t.Fatalf("quote %s: %v", amount, err)
	}
	return r
}

// refused asserts a refusal naming rule, with a 4xx status.
func (e *env) refused(err error, rule string) {
	e.t.Helper()
	te := trading.AsError(err)
	if te == nil || !errors.Is(err, auction.ErrRefused) || te.Rule != rule || te.Status() < 400 || te.Status() > 499 {
		e.t.Fatalf("want a refusal under %s, got %v", rule, err)
	}
	if strings.Contains(te.Message, "5600000") || strings.Contains(te.Message, "5,600,000") {
		e.t.Fatalf("a refusal reveals the reserve (L9): %s", te.Message)
	}
}

func (e *env) lot() *auction.Lot {
	e.t.Helper()
	l, err := e.Auction.Get(e.ctx, e.Lot)
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

// settle runs the settlement ticker's work once, at t on both clocks.
func (e *env) settle(t time.Time) int {
	e.t.Helper()
	e.at(t)
	n, err := e.Auction.SettleDue(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) count(sql string, args ...any) int64 {
	e.t.Helper()
	var n int64
	if err := e.Trading.DB.Raw(sql, args...).Scan(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

func itoa(n int64) string { return fmt.Sprint(n) }
