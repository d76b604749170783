package bidding

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading/supervision"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
)

var procurementDecls = map[string]bool{"civil_capacity": true, "good_reputation": true, "equipment": true, "taxes": true, "no_violation": true}

func TestRegistrationRulesPerCategory(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	b := e.bidder("福建甲建设")
	draft := e.project("engineering", false)
	if _, err := e.Svc.Register(ctx, b, draft.Lots[0].ID, RegisterInput{}); !errors.Is(err, trading.ErrNotFound) {
		t.Fatalf("registered for a draft: %v", err)
	}
	eng := e.project("engineering", true)
	proc := e.project("procurement", true)
	land := e.project("land", true)
	// Before the documents are issued (3 March 09:00) nobody registers.
	if _, err := e.Svc.Register(ctx, b, eng.Lots[0].ID, RegisterInput{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("before the issue period: %v", err)
	}
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	reg, err := e.Svc.Register(ctx, b, eng.Lots[0].ID, RegisterInput{})
	if err != nil || reg.Kind != KindDownload || reg.Status != StatusActive {
		t.Fatalf("engineering: %+v %v", reg, err)
	}
	if _, err := e.Svc.Register(ctx, b, eng.Lots[0].ID, RegisterInput{}); !errors.Is(err, ErrAlreadyRegistered) {
		t.Fatalf("twice: %v", err)
	}
	if _, err := e.Svc.Register(ctx, e.bidder("福建丙建设"), eng.Lots[0].ID, RegisterInput{ContactName: "王\x00五"}); trading.AsError(err).Field != "contact_name" {
		t.Fatalf("a control character in the contact name: %v", err)
	}
	in := RegisterInput{ContactName: "王五", ContactPhone: "0591-87654321", Declarations: map[string]bool{"civil_capacity": true}}
	if _, err := e.Svc.Register(ctx, b, proc.Lots[0].ID, in); trading.AsError(err).Field != "declarations.good_reputation" {
		t.Fatalf("missing declaration: %v", err)
	}
	in.Declarations = procurementDecls
	in.ContactName = "  王五 " // stored trimmed
	if reg, err := e.Svc.Register(ctx, b, proc.Lots[0].ID, in); err != nil || reg.Kind != KindRegistration {
		t.Fatalf("procurement: %v", err)
	}
	var stored Registration
	if e.Svc.DB.Where("lot_id = ? AND bidder_id = ?", proc.Lots[0].ID, b.AccountID).First(&stored); stored.ContactName != "王五" {
		t.Fatalf("contact name stored as %q", stored.ContactName)
	}
	app, err := e.Svc.Register(ctx, b, land.Lots[0].ID, RegisterInput{ContactName: "王五", ContactPhone: "13900000000"})
	if err != nil || app.Status != StatusPending {
		t.Fatalf("land application: %+v %v", app, err)
	}
	if err := e.Svc.Review(ctx, e.Agent, app.ID, false, ""); !errors.Is(err, trading.ErrInvalid) {
		t.Fatalf("rejected without a reason: %v", err)
	}
	other := e.staff(trading.RoleAgent, "daili2")
	if err := e.Svc.Review(ctx, other, app.ID, true, ""); !errors.Is(err, trading.ErrNotFound) {
		t.Fatalf("another agent reviewed: %v", err)
	}
	if err := e.Svc.Review(ctx, e.Agent, app.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	notes, _ := e.Svc.Notifications(ctx, b)
	if len(notes) != 1 || notes[0].Title != "竞买申请审核通过" {
		t.Fatalf("bidder not told: %+v", notes)
	}
	// After the close of registration (the issue period for engineering).
	e.Clock.Set(time.Date(2026, 3, 11, 9, 0, 0, 0, trading.Shanghai))
	late := e.bidder("福建乙建设")
	if _, err := e.Svc.Register(ctx, late, eng.Lots[0].ID, RegisterInput{}); !errors.Is(err, ErrClosed) ||
		trading.AsError(err).Status() != http.StatusConflict {
		t.Fatalf("after the window: %v", err)
	}
	if _, err := e.Svc.Register(ctx, e.Agent, eng.Lots[0].ID, RegisterInput{}); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("an agent registered: %v", err)
	}
}

// 200 concurrent registrations of one bidder for one lot make exactly one.
func TestConcurrentRegistrationsMakeOne(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	b := e.bidder("福建并发建设")
	p := e.project("procurement", true)
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	in := RegisterInput{ContactName: "王五", ContactPhone: "13900000000", Declarations: procurementDecls}
	const n = 200
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, dup := 0, 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.Svc.Register(ctx, b, p.Lots[0].ID, in)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrAlreadyRegistered):
				dup++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var rows int64
	e.Svc.DB.Model(&Registration{}).Where("lot_id = ?", p.Lots[0].ID).Count(&rows)
	if ok != 1 || dup != n-1 || rows != 1 {
		t.Fatalf("%d created, %d refused, %d rows; want 1, %d, 1", ok, dup, rows, n-1)
	}
	e.verifyAudit()
}

// Before the deadline the agent learns nothing of who registered or how
// many; a supervisor may look, and the look is audited; after the deadline
// the agent sees the list.
func TestRegistrantSecrecy(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	p := e.project("engineering", true)
	lot := p.Lots[0].ID
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	_, _, refusedEmpty := e.Svc.Registrants(ctx, e.Agent, lot)
	for _, name := range []string{"甲", "乙", "丙"} {
		if _, err := e.Svc.Register(ctx, e.bidder("福建"+name+"建设"), lot, RegisterInput{}); err != nil {
			t.Fatal(err)
		}
	}
	_, _, refusedFull := e.Svc.Registrants(ctx, e.Agent, lot)
	if !errors.Is(refusedFull, trading.ErrForbidden) {
		t.Fatalf("agent before the deadline: %v", refusedFull)
	}
	// The refusal is the same whether three or none registered.
	if refusedEmpty == nil || refusedEmpty.Error() != refusedFull.Error() {
		t.Fatalf("refusals differ: %q vs %q", refusedEmpty, refusedFull)
	}
	bidder := e.bidder("福建丁建设")
	if _, _, err := e.Svc.Registrants(ctx, bidder, lot); !errors.Is(err, trading.ErrNotFound) {
		t.Fatalf("a bidder saw registrants: %v", err)
	}
	list, _, err := e.Svc.Registrants(ctx, e.Sup, lot)
	if err != nil || len(list) != 3 {
		t.Fatalf("supervisor: %d %v", len(list), err)
	}
	looks, _ := trading.ListAudit(ctx, e.Svc.DB, trading.AuditFilter{Action: "registration.view"})
	if len(looks) != 1 || looks[0].Actor != "jiandu" {
		t.Fatalf("supervisor look not audited: %+v", looks)
	}
	e.Clock.Set(time.Date(2026, 3, 23, 9, 30, 0, 0, trading.Shanghai))
	list, _, err = e.Svc.Registrants(ctx, e.Agent, lot)
	if err != nil || len(list) != 3 || list[0].BidderName == "" {
		t.Fatalf("agent after the deadline: %d %v", len(list), err)
	}
}

func TestWithdrawBeforeDeadlineOnly(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	b := e.bidder("福建撤回建设")
	p := e.project("engineering", true)
	lot := p.Lots[0].ID
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	if _, err := e.Svc.Register(ctx, b, lot, RegisterInput{}); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.Withdraw(ctx, b, lot); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.Withdraw(ctx, b, lot); !errors.Is(err, trading.ErrNotFound) {
		t.Fatalf("withdrew twice: %v", err)
	}
	// Registering again revives the one row.
	if _, err := e.Svc.Register(ctx, b, lot, RegisterInput{}); err != nil {
		t.Fatal(err)
	}
	e.Clock.Set(time.Date(2026, 3, 23, 10, 0, 0, 0, trading.Shanghai))
	if err := e.Svc.Withdraw(ctx, b, lot); trading.AsError(err).Rule != "D7" {
		t.Fatalf("withdrawal after the deadline: %v", err)
	}
	mine, err := e.Svc.MyRegistrations(ctx, b)
	if err != nil || len(mine) != 1 || mine[0].Registration.Status != StatusActive {
		t.Fatalf("my registrations: %+v %v", mine, err)
	}
}

// A suspension waits for a registration in flight (the registration holds a
// key-share lock on the project until it commits), so no registration
// commits after the suspension did; one that starts after it is refused.
func TestSuspensionWaitsForRegistrationInFlight(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	p := e.project("engineering", true)
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	b := e.bidder("福建在途建设")
	registered, release := make(chan error), make(chan struct{})
	go func() {
		registered <- e.TS.DB.Transaction(func(tx *gorm.DB) error {
			if _, err := e.Svc.register(context.Background(), tx, b, p.Lots[0].ID, RegisterInput{}, e.Clock.Now()); err != nil {
				return err
			}
			registered <- nil
			<-release // the registration's transaction is still open
			return nil
		})
	}()
	if err := <-registered; err != nil {
		t.Fatal(err)
	}
	suspended := make(chan error, 1)
	go func() {
		_, err := supervision.Suspend(ctx, e.TS, e.Sup, p.Code, "收到投诉，暂停核查")
		suspended <- err
	}()
	// The suspension is waiting on a lock, not done.
	waiting := false
	for i := 0; i < 100 && !waiting; i++ {
		var n int64
		e.TS.DB.Raw(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`).Scan(&n)
		waiting = n > 0
		if !waiting {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if !waiting {
		t.Fatal("the suspension did not wait for the registration in flight")
	}
	select {
	case err := <-suspended:
		t.Fatalf("suspension finished while a registration was in flight: %v", err)
	default:
	}
	close(release)
	if err := <-registered; err != nil {
		t.Fatal(err)
	}
	if err := <-suspended; err != nil {
		t.Fatal(err)
	}
	late := e.bidder("福建迟到建设")
	if _, err := e.Svc.Register(ctx, late, p.Lots[0].ID, RegisterInput{}); !errors.Is(err, trading.ErrSuspended) {
		t.Fatalf("registered after the suspension: %v", err)
	}
}

// A registration is written in one statement from a copy of the lot kept
// for a second (registerAtOnce). A copy made stale by a suspension or by a
// changed lot admits nobody: the statement finds newer rows and the
// registration is decided again on a fresh read. A stale copy refuses
// nobody either: after a resumption the next bidder gets in.
func TestRegistrationOnAKeptLotCopy(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	p := e.project("engineering", true)
	lot := p.Lots[0].ID
	e.Svc.lots.TTL = time.Hour // however slow the machine, the copy is still kept
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	if _, err := e.Svc.Register(ctx, e.bidder("福建先到建设"), lot, RegisterInput{}); err != nil {
		t.Fatal(err)
	}
	if e.Svc.lots.get(lot) == nil {
		t.Fatal("the lot was not kept")
	}
	if _, err := supervision.Suspend(ctx, e.TS, e.Sup, p.Code, "收到投诉，暂停核查"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Register(ctx, e.bidder("福建暂停建设"), lot, RegisterInput{}); !errors.Is(err, trading.ErrSuspended) {
		t.Fatalf("registered on a kept copy of a suspended project: %v", err)
	}
	if e.Svc.lots.get(lot) != nil { // dropped when the statement found a newer project
		t.Fatal("the stale copy admitted the registration and was not dropped")
	}
	if _, err := supervision.Resume(ctx, e.TS, e.Sup, p.Code, "核查完毕，恢复"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Register(ctx, e.bidder("福建恢复建设"), lot, RegisterInput{}); err != nil {
		t.Fatalf("refused on a kept copy of a resumed project: %v", err)
	}
	// Another instance closes the issue period (as an amendment would).
	if err := e.TS.DB.Exec("UPDATE lots SET doc_issue_end = ? WHERE id = ?", e.Clock.Now().Add(-time.Minute), lot).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Register(ctx, e.bidder("福建关闭建设"), lot, RegisterInput{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("registered on a kept copy of a closed lot: %v", err)
	}
	if e.Svc.lots.get(lot) != nil {
		t.Fatal("the stale copy admitted the registration and was not dropped")
	}
	var rows int64
	e.Svc.DB.Model(&Registration{}).Where("lot_id = ?", lot).Count(&rows)
	if rows != 2 {
		t.Fatalf("%d registrations, want 2", rows)
	}
	e.verifyAudit()
}

// Many bidders registering at once for two lots are written together, a
// few statements for all of them (batch.go): every one gets exactly one
// registration and one audit record naming it, and the audit chains stay
// whole (their heads are locked in one order, so batches never deadlock).
func TestConcurrentRegistrationsOfManyBidders(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	p1, p2 := e.project("engineering", true), e.project("engineering", true)
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	const n = 120
	bidders := make([]trading.Actor, n)
	for i := range bidders {
		bidders[i] = e.bidder(fmt.Sprintf("福建批量%03d建设", i))
	}
	var wg sync.WaitGroup
	regs := make([]*Registration, n)
	start := make(chan struct{})
	for i := range bidders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			lot := []int64{p1.Lots[0].ID, p2.Lots[0].ID}[i%2]
			reg, err := e.Svc.Register(ctx, bidders[i], lot, RegisterInput{})
			if err != nil {
				t.Error(err)
				return
			}
			regs[i] = reg
		}()
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if n := e.Svc.batch.mostWritten(); n < 2 {
		t.Fatalf("no statement wrote more than %d registrations", n)
	}
	for i, reg := range regs {
		var stored Registration
		if err := e.Svc.DB.First(&stored, reg.ID).Error; err != nil || stored.BidderID != bidders[i].AccountID ||
			stored.LotID != []int64{p1.Lots[0].ID, p2.Lots[0].ID}[i%2] || stored.Status != StatusActive {
			t.Fatalf("registration %d: %+v stored as %+v (%v)", i, reg, stored, err)
		}
		var records []trading.AuditEvent
		e.Svc.DB.Where("object_type = 'registration' AND object_id = ?", fmt.Sprint(reg.ID)).Find(&records)
		if len(records) != 1 || records[0].Action != "registration.create" || records[0].Actor != bidders[i].Username ||
			records[0].ActorID == nil || *records[0].ActorID != bidders[i].AccountID {
			t.Fatalf("audit of registration %d: %+v", reg.ID, records)
		}
	}
	e.verifyAudit()
}

// The batch writers are shared by every lot: registrations for a project
// that other work holds locked wait in their own transactions (register),
// not in a batch statement, so registrations for other projects go on.
func TestLockedProjectDoesNotHoldUpOthers(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	locked, free := e.project("engineering", true), e.project("engineering", true)
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	tx := e.TS.DB.Begin()
	if err := tx.Exec("SELECT 1 FROM projects WHERE id = ? FOR UPDATE", locked.ID).Error; err != nil {
		t.Fatal(err)
	}
	waiting := make(chan error, 2)
	for i := 0; i < 2; i++ { // as many as there are batch writers
		b := e.bidder(fmt.Sprintf("福建等待%d建设", i))
		go func() {
			_, err := e.Svc.Register(ctx, b, locked.Lots[0].ID, RegisterInput{})
			waiting <- err
		}()
	}
	// Both wait on the project's lock.
	for i := 0; i < 200; i++ {
		var n int64
		e.TS.DB.Raw(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`).Scan(&n)
		if n >= 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := e.Svc.Register(ctx, e.bidder("福建畅通建设"), free.Lots[0].ID, RegisterInput{}); err != nil {
		t.Fatalf("registration for another project while one is locked: %v", err)
	}
	select {
	case err := <-waiting:
		t.Fatalf("a registration for the locked project finished while it was locked: %v", err)
	default:
	}
	tx.Rollback()
	for i := 0; i < 2; i++ {
		if err := <-waiting; err != nil {
			t.Fatalf("after the lock: %v", err)
		}
	}
	e.verifyAudit()
}
