package deposits

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/templates"
	"github.com/ggzy/ggzy/trading"
)

// account is the actor of an account newDepEnv created ("daili", "jiandu").
func (e *depEnv) account(username string, role trading.Role) trading.Actor {
	e.t.Helper()
	var id int64
	if err := e.Dep.DB.Raw("SELECT id FROM accounts WHERE username = ?", username).Scan(&id).Error; err != nil || id == 0 {
		e.t.Fatalf("account %s: %v", username, err)
	}
	return trading.Actor{AccountID: id, Username: username, Role: role}
}

// signUp makes a bidder that has registered for nothing.
func (e *depEnv) signUp(name string) trading.Actor {
	e.t.Helper()
	return e.enterprise(name, "MG", "gua")
}

// enterprise signs up an enterprise bidder with a valid credit code of
// the series (two letters) and a username with the prefix.
func (e *depEnv) enterprise(name, series, user string) trading.Actor {
	e.t.Helper()
	e.n++
	acc, err := e.TS.SignUpBidder(context.Background(), trading.SystemActor, trading.SignUp{Kind: trading.BidderEnterprise, Name: name,
		IDNumber: testenv.CreditCode(fmt.Sprintf("91350100%s%06dX", series, e.n)), LegalRep: "张三", Phone: "13800138000", Email: user + "@example.com",
		Username: fmt.Sprintf("%s%d", user, e.n), Password: "pass12345"})
	if err != nil {
		e.t.Fatal(err)
	}
	return trading.Actor{AccountID: acc.ID, Username: acc.Username, Role: trading.RoleBidder}
}

func (e *depEnv) registrationID(a trading.Actor, lotID int64) int64 {
	e.t.Helper()
	var id int64
	if err := e.Dep.DB.Raw("SELECT id FROM registrations WHERE bidder_id = ? AND lot_id = ?", a.AccountID, lotID).Scan(&id).Error; err != nil || id == 0 {
		e.t.Fatalf("registration: %v", err)
	}
	return id
}

func (e *depEnv) covered(a trading.Actor, lotID int64) (bool, string) {
	e.t.Helper()
	ok, how, err := e.Dep.DepositCovered(context.Background(), e.Dep.DB, e.registrationID(a, lotID))
	if err != nil {
		e.t.Fatal(err)
	}
	return ok, how
}

// material stores a row for an uploaded application material (the object
// itself is not needed here).
func (e *depEnv) material(regID, lotID int64, uploader trading.Actor, name string) int64 {
	e.t.Helper()
	var id int64
	err := e.Dep.DB.Raw(`INSERT INTO documents (lot_id, version, kind, registration_id, filename, content_type, size, sha256, object_key, uploaded_by, created_at)
		VALUES (?, 1, 'material', ?, ?, 'application/pdf', 10, ?, ?, ?, ?) RETURNING id`, lotID, regID, name,
		strings.Repeat("a", 64), fmt.Sprintf("materials/%d/%s", regID, name), uploader.AccountID, e.Clock.Now()).Scan(&id).Error
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func wantErr(t *testing.T, err error, status int, field string) *trading.Error {
	t.Helper()
	var de *trading.Error
	if !errors.As(err, &de) || de.Status() != status || de.Field != field {
		t.Fatalf("want %d on %q, got %v", status, field, err)
	}
	return de
}

func goodGuarantee(number string) GuaranteeInput {
	return GuaranteeInput{Kind: "bank", Number: number, Issuer: "某某农村商业银行 福州分行", Amount: "200000.00", ValidUntil: "2026-06-30"}
}

func TestGuaranteeSubmitRefusals(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	a, _ := e.bidder("福建甲保函建设有限公司")

	in := goodGuarantee("BH-1")
	in.Amount = "199999.99"
	_, err := e.Dep.SubmitGuarantee(ctx, a, e.Lot, in)
	if de := wantErr(t, err, 400, "amount"); !strings.Contains(de.Message, "200000.00") {
		t.Fatalf("message: %s", de.Message)
	}
	// " 200000.00 " was trimmed and accepted: amounts are taken as sent (README "Amounts").
	for _, bad := range []string{"1e5", "200000.001", "-200000.00", "", " 200000.00 "} {
		in.Amount = bad
		_, err = e.Dep.SubmitGuarantee(ctx, a, e.Lot, in)
		wantErr(t, err, 400, "amount")
	}

	in = goodGuarantee("BH-1")
	in.ValidUntil = "2026-03-22" // the bid deadline is 2026-03-23 09:30
	_, err = e.Dep.SubmitGuarantee(ctx, a, e.Lot, in)
	if de := wantErr(t, err, 422, "valid_until"); de.Rule != "D1" {
		t.Fatalf("rule %q", de.Rule)
	}
	in.ValidUntil = "2026/06/30"
	_, err = e.Dep.SubmitGuarantee(ctx, a, e.Lot, in)
	wantErr(t, err, 400, "valid_until")
	in = goodGuarantee("BH-1")
	in.Kind = "cash"
	_, err = e.Dep.SubmitGuarantee(ctx, a, e.Lot, in)
	wantErr(t, err, 400, "kind")
	in = goodGuarantee("BH-1")
	in.Issuer = " "
	_, err = e.Dep.SubmitGuarantee(ctx, a, e.Lot, in)
	wantErr(t, err, 400, "issuer")

	// The scan must be a material of this very registration.
	b, _ := e.bidder("福建乙保函建设有限公司")
	othersDoc := e.material(e.registrationID(b, e.Lot), e.Lot, b, "乙保函.pdf")
	in = goodGuarantee("BH-1")
	in.DocumentID = othersDoc
	_, err = e.Dep.SubmitGuarantee(ctx, a, e.Lot, in)
	wantErr(t, err, 400, "document_id")

	// A bidder without a registration for the lot.
	stranger := e.signUp("福建丙保函建设有限公司")
	_, err = e.Dep.SubmitGuarantee(ctx, stranger, e.Lot, goodGuarantee("BH-9"))
	wantErr(t, err, 409, "lot_id")
	// Staff cannot submit one.
	_, err = e.Dep.SubmitGuarantee(ctx, e.account("daili", trading.RoleAgent), e.Lot, goodGuarantee("BH-9"))
	if !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("agent submitted: %v", err)
	}

	// Validity to the deadline's day is enough; any issuer is accepted (D9).
	in = goodGuarantee("bh-1")
	in.ValidUntil = "2026-03-23"
	in.Issuer = "  某某农村商业银行   福州分行 "
	in.DocumentID = e.material(e.registrationID(a, e.Lot), e.Lot, a, "甲保函.pdf")
	g, err := e.Dep.SubmitGuarantee(ctx, a, e.Lot, in)
	if err != nil {
		t.Fatal(err)
	}
	if g.Status != GuaranteeSubmitted || g.Number != "BH-1" || g.Issuer != "某某农村商业银行 福州分行" || g.ValidUntilText != "2026-03-23" ||
		g.Amount.StringFixed(2) != "200000.00" || g.DocumentName != "甲保函.pdf" || g.LotID != e.Lot {
		t.Fatalf("stored: %+v", g)
	}
	// One live guarantee per registration.
	_, err = e.Dep.SubmitGuarantee(ctx, a, e.Lot, goodGuarantee("BH-2"))
	wantErr(t, err, 409, "lot_id")
	// The same guarantee (issuer + number) cannot be offered twice, even by
	// another bidder, however it is spaced or cased.
	_, err = e.Dep.SubmitGuarantee(ctx, b, e.Lot, goodGuarantee(" bh-1 "))
	wantErr(t, err, 409, "number")
	if _, err := e.Dep.SubmitGuarantee(ctx, b, e.Lot, goodGuarantee("BH-2")); err != nil {
		t.Fatal(err)
	}

	// After the deposit deadline no guarantee is taken.
	c := e.signUp("福建丁保函建设有限公司")
	if _, err := e.Bid.Register(ctx, c, e.Lot, bidding.RegisterInput{}); err != nil {
		t.Fatal(err)
	}
	e.Clock.Set(time.Date(2026, 3, 23, 9, 30, 0, 0, trading.Shanghai))
	_, err = e.Dep.SubmitGuarantee(ctx, c, e.Lot, goodGuarantee("BH-3"))
	wantErr(t, err, 409, "lot_id")
}

func TestGuaranteeReviewCoversDeposit(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	a, _ := e.bidder("福建戊保函建设有限公司")
	agent := e.account("daili", trading.RoleAgent)
	sup := e.account("jiandu", trading.RoleSupervisor)
	other := e.staff(trading.RoleAgent, "daili2")

	g, err := e.Dep.SubmitGuarantee(ctx, a, e.Lot, goodGuarantee("DZ-2026-0001"))
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := e.covered(a, e.Lot); ok {
		t.Fatal("a submitted guarantee counted as the deposit")
	}
	// Another project's agent can neither review nor list.
	if _, err := e.Dep.ReviewGuarantee(ctx, other, g.ID, true, ""); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("other agent reviewed: %v", err)
	}
	if _, _, err := e.Dep.Guarantees(ctx, other, e.Lot); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("other agent listed: %v", err)
	}
	// Before the deadline even the project's agent may not learn who
	// registered for an engineering lot (K5): the centre verifies.
	_, err = e.Dep.ReviewGuarantee(ctx, agent, g.ID, true, "")
	var de *trading.Error
	if !errors.As(err, &de) || de.Status() != 403 || de.Rule != "K5" {
		t.Fatalf("agent before the deadline: %v", err)
	}
	if _, err := e.Dep.ReviewGuarantee(ctx, a, g.ID, true, ""); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("bidder reviewed: %v", err)
	}
	// Rejecting needs a reason.
	_, err = e.Dep.ReviewGuarantee(ctx, sup, g.ID, false, " ")
	wantErr(t, err, 400, "reason")

	list, _, err := e.Dep.Guarantees(ctx, sup, e.Lot)
	if err != nil || len(list) != 1 || list[0].BidderName != "福建戊保函建设有限公司" || list[0].Required.StringFixed(2) != "200000.00" {
		t.Fatalf("review list: %+v %v", list, err)
	}
	v, err := e.Dep.ReviewGuarantee(ctx, sup, g.ID, true, "")
	if err != nil || v.Status != GuaranteeVerified || v.ReviewedAt == nil {
		t.Fatalf("approve: %+v %v", v, err)
	}
	if ok, how := e.covered(a, e.Lot); !ok || how != "保函" {
		t.Fatalf("covered %v %q", ok, how)
	}
	if _, err := e.Dep.ReviewGuarantee(ctx, sup, g.ID, false, "重复审核"); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("reviewed twice: %v", err)
	}
	var notes []bidding.Notification
	e.Dep.DB.Where("account_id = ?", a.AccountID).Find(&notes)
	if len(notes) != 1 || !strings.Contains(notes[0].Body, "DZ-2026-0001") {
		t.Fatalf("notifications: %+v", notes)
	}
	mine, err := e.Dep.MyGuarantees(ctx, a)
	if err != nil || len(mine) != 1 || mine[0].Status != GuaranteeVerified {
		t.Fatalf("mine: %+v %v", mine, err)
	}
	// A verified guarantee that has expired no longer counts.
	e.Clock.Set(time.Date(2026, 7, 1, 9, 0, 0, 0, trading.Shanghai))
	if ok, _ := e.covered(a, e.Lot); ok {
		t.Fatal("an expired guarantee counted")
	}
	e.Clock.Set(time.Date(2026, 3, 5, 9, 0, 0, 0, trading.Shanghai))

	// A rejected guarantee frees the registration for another one.
	b, _ := e.bidder("福建己保函建设有限公司")
	g2, err := e.Dep.SubmitGuarantee(ctx, b, e.Lot, goodGuarantee("DZ-2026-0002"))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := e.Dep.ReviewGuarantee(ctx, sup, g2.ID, false, "保函受益人名称有误"); err != nil || v.Status != GuaranteeRejected ||
		v.RejectReason != "保函受益人名称有误" {
		t.Fatalf("reject: %+v %v", v, err)
	}
	if ok, _ := e.covered(b, e.Lot); ok {
		t.Fatal("a rejected guarantee counted")
	}
	if _, err := e.Dep.SubmitGuarantee(ctx, b, e.Lot, goodGuarantee("DZ-2026-0003")); err != nil {
		t.Fatalf("resubmit after rejection: %v", err)
	}

	// After the deadline the project's agent reviews.
	e.Clock.Set(time.Date(2026, 3, 23, 10, 0, 0, 0, trading.Shanghai))
	list, _, err = e.Dep.Guarantees(ctx, agent, e.Lot)
	if err != nil || len(list) != 3 {
		t.Fatalf("agent's list after the deadline: %d %v", len(list), err)
	}
	if _, err := e.Dep.ReviewGuarantee(ctx, agent, list[0].ID, true, ""); err != nil {
		t.Fatalf("agent after the deadline: %v", err)
	}

	n, problem, err := trading.VerifyAudit(ctx, e.Dep.DB)
	if err != nil || problem != nil || n == 0 {
		t.Fatalf("audit: %d %v %v", n, problem, err)
	}
	var actions []string
	e.Dep.DB.Raw("SELECT action FROM audit_events WHERE object_type IN ('guarantee', 'lot') AND action LIKE 'guarantee.%' ORDER BY id").Scan(&actions)
	if strings.Join(actions, ",") != "guarantee.submit,guarantee.list,guarantee.verify,guarantee.submit,guarantee.reject,guarantee.submit,guarantee.verify" {
		t.Fatalf("audited: %v", actions)
	}
}

// A procurement deposit is paid by transfer into a virtual account or by a
// guarantee (G5: non-cash forms only); a verified guarantee covers it.
func TestGuaranteeProcurementLot(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	agent := e.account("daili", trading.RoleAgent)
	sup := e.account("jiandu", trading.RoleSupervisor)
	e.Clock.Set(time.Date(2026, 3, 2, 9, 0, 0, 0, trading.Shanghai))
	at := func(m time.Month, d, h, min int) string {
		return time.Date(2026, m, d, h, min, 0, 0, trading.Shanghai).Format(time.RFC3339)
	}
	p, err := e.TS.CreateProject(ctx, agent, trading.ProjectInput{Category: "procurement", Title: "保函测试采购项目", OwnerName: "福州市某局",
		RegionCode: "350100", Lots: []trading.LotInput{{Name: "第1包", Budget: "3000000.00", Deposit: "60000.00",
			DocIssueStart: at(3, 3, 9, 0), DocIssueEnd: at(3, 10, 17, 0), BidDeadline: at(3, 25, 9, 30)}}})
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.TS.DraftAnnouncement(ctx, agent, p.Code, trading.AnnouncementInput{Type: "procurement", Title: "保函测试采购公告", Body: "正文"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.TS.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.TS.ApproveAnnouncement(ctx, sup, n.ID, nil); err != nil {
		t.Fatal(err)
	}
	lot := p.Lots[0].ID
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	a := e.signUp("福建庚医疗器械有限公司")
	decl := map[string]bool{}
	for _, d := range bidding.ProcurementDeclarations {
		decl[d.Key] = true
	}
	if _, err := e.Bid.Register(ctx, a, lot, bidding.RegisterInput{ContactName: "王五", ContactPhone: "0591-88888888", Declarations: decl}); err != nil {
		t.Fatal(err)
	}
	var vas int64
	e.Dep.DB.Model(&VirtualAccount{}).Where("lot_id = ?", lot).Count(&vas)
	if vas != 1 {
		t.Fatalf("a procurement registration has %d virtual accounts, want 1 for transfers", vas)
	}
	if ok, _ := e.covered(a, lot); ok {
		t.Fatal("covered before any guarantee")
	}
	in := GuaranteeInput{Kind: "electronic", Number: "EG20260304001", Issuer: "某某保险股份有限公司", Amount: "59999.99", ValidUntil: "2026-06-23"}
	_, err = e.Dep.SubmitGuarantee(ctx, a, lot, in)
	wantErr(t, err, 400, "amount")
	in.Amount, in.ValidUntil = "60000.00", "2026-03-24"
	_, err = e.Dep.SubmitGuarantee(ctx, a, lot, in)
	wantErr(t, err, 422, "valid_until")
	in.ValidUntil = "2026-06-23"
	g, err := e.Dep.SubmitGuarantee(ctx, a, lot, in)
	if err != nil || g.Category != "procurement" || g.Kind.Name() != "电子保函" {
		t.Fatalf("submit: %+v %v", g, err)
	}
	if _, err := e.Dep.ReviewGuarantee(ctx, sup, g.ID, true, "已向出具机构核验"); err != nil {
		t.Fatal(err)
	}
	if ok, how := e.covered(a, lot); !ok || how != "保函" {
		t.Fatalf("covered %v %q", ok, how)
	}
	var summary string
	e.Dep.DB.Raw("SELECT summary FROM audit_events WHERE action = 'guarantee.submit' AND object_id = ?", fmt.Sprint(g.ID)).Scan(&summary)
	if !strings.Contains(summary, "G5") {
		t.Fatalf("audit summary: %s", summary)
	}
}

// Cash covers the deposit once the held money reaches it.
func TestGuaranteeCashCovers(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	const name = "福建辛建设有限公司"
	a, va := e.bidder(name)
	if _, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{inflow("GC1", va, name, "150000.00", e.Clock.Now())}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := e.covered(a, e.Lot); ok {
		t.Fatal("150000.00 of 200000.00 covered the deposit")
	}
	// Money from someone else (D2) is not held and does not count.
	if _, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{inflow("GC2", va, "别人公司", "50000.00", e.Clock.Now())}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := e.covered(a, e.Lot); ok {
		t.Fatal("a third-party payment counted")
	}
	if _, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{inflow("GC3", va, name, "50000.00", e.Clock.Now())}); err != nil {
		t.Fatal(err)
	}
	if ok, how := e.covered(a, e.Lot); !ok || how != "现金" {
		t.Fatalf("covered %v %q", ok, how)
	}
	e.verifyClean()
}

// Withdrawing releases the guarantee (once the hook is wired), and the
// bidder can offer a new one on registering again.
func TestGuaranteeReleasedOnWithdraw(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	e.Bid.OnWithdraw = append(e.Bid.OnWithdraw, e.Dep.ReleaseGuarantees)
	ctx := context.Background()
	a, _ := e.bidder("福建壬保函建设有限公司")
	g, err := e.Dep.SubmitGuarantee(ctx, a, e.Lot, goodGuarantee("W-1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Bid.Withdraw(ctx, a, e.Lot); err != nil {
		t.Fatal(err)
	}
	mine, _ := e.Dep.MyGuarantees(ctx, a)
	if len(mine) != 1 || mine[0].ID != g.ID || mine[0].Status != GuaranteeReleased {
		t.Fatalf("after withdrawal: %+v", mine)
	}
	if _, err := e.Bid.Register(ctx, a, e.Lot, bidding.RegisterInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Dep.SubmitGuarantee(ctx, a, e.Lot, goodGuarantee("W-2")); err != nil {
		t.Fatal(err)
	}
	if _, problem, err := trading.VerifyAudit(ctx, e.Dep.DB); err != nil || problem != nil {
		t.Fatalf("audit: %v %v", problem, err)
	}
}

// Both forms of the page render.
func TestGuaranteePagesRender(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	a, _ := e.bidder("福建癸保函建设有限公司")
	doc := e.material(e.registrationID(a, e.Lot), e.Lot, a, "癸保函.pdf")
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	opts, err := e.Dep.GuaranteeOptions(ctx, a)
	if err != nil || len(opts) != 1 || len(opts[0].Materials) != 1 || opts[0].MinValidUntil != "2026-03-23" {
		t.Fatalf("options: %+v %v", opts, err)
	}
	form := &guaranteeForm{LotID: e.Lot, GuaranteeInput: GuaranteeInput{Kind: "insurance", Number: "X<1>", DocumentID: doc}}
	var buf bytes.Buffer
	err = r.Render(&buf, "guarantees", templates.Page{Title: "我的保函", CSRF: "tok", Data: map[string]any{"Review": false,
		"Guarantees": []GuaranteeView(nil), "Options": opts, "Kinds": GuaranteeKinds, "Form": form,
		"Error": trading.Invalid("amount", "保函金额无效")}})
	out := buf.String()
	if err != nil || !strings.Contains(out, `name="_csrf" value="tok"`) || !strings.Contains(out, "X&lt;1&gt;") ||
		!strings.Contains(out, `value="insurance" selected`) || !strings.Contains(out, "癸保函.pdf") || !strings.Contains(out, `（字段：<a href="#amount">amount</a>）`) {
		t.Fatalf("bidder page: %v\n%s", err, out)
	}
	g, err := e.Dep.SubmitGuarantee(ctx, a, e.Lot, GuaranteeInput{Kind: "bank", Number: "P-1", Issuer: "某银行", Amount: "200000.00",
		ValidUntil: "2026-04-30", DocumentID: doc})
	if err != nil {
		t.Fatal(err)
	}
	list, lot, err := e.Dep.Guarantees(ctx, e.account("jiandu", trading.RoleSupervisor), e.Lot)
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	err = r.Render(&buf, "guarantees", templates.Page{Title: "保函核验", CSRF: "tok", Data: map[string]any{"Review": true, "Guarantees": list, "Lot": lot}})
	out = buf.String()
	if err != nil || !strings.Contains(out, fmt.Sprintf(`action="/guarantees/%d/approve"`, g.ID)) || !strings.Contains(out, "2026-04-30") ||
		!strings.Contains(out, fmt.Sprintf(`href="/documents/%d"`, doc)) || !strings.Contains(out, "200,000.00") {
		t.Fatalf("review page: %v\n%s", err, out)
	}
}
