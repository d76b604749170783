package trading

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
)

func TestSignUpBidderValidation(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()
	anon := Actor{Role: "anonymous", IP: "127.0.0.1"}
	tests := []struct {
		name   string
		mutate func(*SignUp)
		field  string
	}{
		{"bad checksum", func(s *SignUp) { s.IDNumber = "91350100M000100Y44" }, "id_number"},
		{"short code", func(s *SignUp) { s.IDNumber = "91350100M000100Y4" }, "id_number"},
		{"no legal rep", func(s *SignUp) { s.LegalRep = "" }, "legal_rep"},
		{"bad phone", func(s *SignUp) { s.Phone = "12345" }, "phone"},
		{"bad email", func(s *SignUp) { s.Email = "not-an-email" }, "email"},
		{"bad username", func(s *SignUp) { s.Username = "a b" }, "username"},
		{"weak password", func(s *SignUp) { s.Password = "password" }, "password"},
		{"unknown kind", func(s *SignUp) { s.Kind = "ghost" }, "kind"},
		{"person with bad id", func(s *SignUp) { s.Kind = BidderPerson; s.IDNumber = "110105194912310021" }, "id_number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validSignUp("user1", "91350100M000100Y43")
			tt.mutate(&in)
			_, err := s.SignUpBidder(ctx, anon, in)
			var de *Error
			if !errors.As(err, &de) || de.Field != tt.field || de.Status() != http.StatusBadRequest {
				t.Fatalf("got %v, want a 400 on field %s", err, tt.field)
			}
		})
	}
	var n int64
	s.DB.Model(&Account{}).Count(&n)
	if n != 0 {
		t.Fatalf("refused sign-ups left %d accounts behind", n)
	}
	acc, err := s.SignUpBidder(ctx, anon, validSignUp("User1", "91350100m000100y43"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Account(ctx, acc.ID)
	if err != nil || got.Bidder == nil || got.Bidder.IDNumber != "91350100M000100Y43" {
		t.Fatalf("stored bidder = %+v, %v", got, err)
	}
	// The same username in another case, and the same code, are conflicts.
	_, err = s.SignUpBidder(ctx, anon, validSignUp("user1", testenv.CreditCode("91350100M000200Y4")))
	if de := AsError(err); de.Status() != http.StatusConflict || de.Field != "username" {
		t.Fatalf("duplicate username: %v", err)
	}
	_, err = s.SignUpBidder(ctx, anon, validSignUp("user2", "91350100M000100Y43"))
	if de := AsError(err); de.Status() != http.StatusConflict || de.Field != "id_number" {
		t.Fatalf("duplicate code: %v", err)
	}
}

func TestAdminMayOverrideChecksumOnly(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()
	pilot := validSignUp("pilot", "91350100M0001TGQXM") // genuine pilot code failing the checksum
	pilot.AllowChecksumFailure = true
	if _, err := s.SignUpBidder(ctx, Actor{Role: "anonymous"}, pilot); !errors.Is(err, ErrChecksum) {
		t.Fatalf("a bidder may not override the checksum: %v", err)
	}
	admin := Actor{AccountID: 0, Username: "admin", Role: RoleAdmin}
	acc, err := s.SignUpBidder(ctx, admin, pilot)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Account(ctx, acc.ID)
	if !got.Bidder.ChecksumOverride {
		t.Fatal("override not recorded")
	}
	bad := validSignUp("pilot2", "91350100M0001TGQX") // a format error is never overridable
	bad.AllowChecksumFailure = true
	if _, err := s.SignUpBidder(ctx, admin, bad); err == nil || errors.Is(err, ErrChecksum) {
		t.Fatalf("format error overridden: %v", err)
	}
}

func TestConcurrentSignUpsCreateOne(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = s.SignUpBidder(ctx, Actor{Role: "anonymous"}, validSignUp("racer", "91350100M000100Y43"))
		}(i)
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrConflict):
			t.Errorf("unexpected error: %v", err)
		}
	}
	var accounts, bidders int64
	s.DB.Model(&Account{}).Count(&accounts)
	s.DB.Model(&Bidder{}).Count(&bidders)
	if ok != 1 || accounts != 1 || bidders != 1 {
		t.Fatalf("%d succeeded, %d accounts, %d bidders; want exactly one", ok, accounts, bidders)
	}
	if n, problem, err := VerifyAudit(ctx, s.DB); err != nil || problem != nil || n != 1 {
		t.Fatalf("audit after race: %d rows, %v, %v", n, problem, err)
	}
}

func TestCreateAccountRoles(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()
	in := NewAccount{Role: RoleSupervisor, Username: "jiandu", DisplayName: "监督", Password: "abcd1234"}
	if _, err := s.CreateAccount(ctx, Actor{AccountID: 9, Role: RoleAgent}, in); !errors.Is(err, ErrForbidden) {
		t.Fatalf("agent created an account: %v", err)
	}
	if _, err := s.CreateAccount(ctx, SystemActor, NewAccount{Role: RoleBidder, Username: "b", Password: "abcd1234"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bidder without identity: %v", err)
	}
	if _, err := s.CreateAccount(ctx, SystemActor, NewAccount{Role: "root", Username: "rooty", Password: "abcd1234"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown role: %v", err)
	}
	acc, err := s.CreateAccount(ctx, SystemActor, in)
	if err != nil || acc.Role != RoleSupervisor {
		t.Fatalf("create: %v %v", acc, err)
	}
}

func TestLoginSessionsAndRevocation(t *testing.T) {
	t.Parallel()
	s, clock := newTestService(t)
	ctx := context.Background()
	acc, err := s.CreateAccount(ctx, SystemActor, NewAccount{Role: RoleAgent, Username: "daili", Password: "abcd1234"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Login(ctx, SessionWeb, "daili", "wrong1234", "", ""); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, _, err := s.Login(ctx, SessionWeb, "nobody", "abcd1234", "", ""); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("unknown user: %v", err)
	}
	token, _, err := s.Login(ctx, SessionAPI, "DAILI", "abcd1234", "10.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.SessionAccount(ctx, SessionAPI, token); err != nil || got.ID != acc.ID {
		t.Fatalf("session lookup: %v %v", got, err)
	}
	if _, err := s.SessionAccount(ctx, SessionWeb, token); !errors.Is(err, ErrUnauthorized) {
		t.Fatal("an API token opened a browser session")
	}
	// Expiry follows the service clock.
	clock.Advance(s.APITokenTTL + time.Second)
	if _, err := s.SessionAccount(ctx, SessionAPI, token); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("expired token accepted: %v", err)
	}
	clock.Advance(-s.APITokenTTL)
	// Logout revokes; disabling an account revokes every session and login.
	actor := Actor{AccountID: acc.ID, Username: acc.Username, Role: acc.Role}
	if err := s.Logout(ctx, actor, token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionAccount(ctx, SessionAPI, token); !errors.Is(err, ErrUnauthorized) {
		t.Fatal("revoked token accepted")
	}
	token2, _, _ := s.Login(ctx, SessionWeb, "daili", "abcd1234", "", "")
	adm, err := s.CreateAccount(ctx, SystemActor, NewAccount{Role: RoleAdmin, Username: "admin", Password: "abcd1234"})
	if err != nil {
		t.Fatal(err)
	}
	admin := Actor{AccountID: adm.ID, Username: "admin", Role: RoleAdmin}
	if err := s.SetDisabled(ctx, admin, acc.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionAccount(ctx, SessionWeb, token2); !errors.Is(err, ErrUnauthorized) {
		t.Fatal("session of a disabled account accepted")
	}
	if _, _, err := s.Login(ctx, SessionWeb, "daili", "abcd1234", "", ""); !errors.Is(err, ErrForbidden) {
		t.Fatalf("disabled account logged in: %v", err)
	}
	// Every one of those changes is in the audit log.
	events, err := ListAudit(ctx, s.DB, AuditFilter{ObjectID: fmt.Sprint(acc.ID)})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"account.disable", "session.login", "session.logout", "session.login", "account.create"}
	if len(events) != len(want) {
		t.Fatalf("audit events %d, want %d", len(events), len(want))
	}
	for i, e := range events {
		if e.Action != want[i] {
			t.Errorf("event %d = %s, want %s", i, e.Action, want[i])
		}
	}
	// The summary is read on the audit page: Chinese, not the action code.
	if events[0].Summary != "停用账号" {
		t.Errorf("disable summary %q", events[0].Summary)
	}
}
