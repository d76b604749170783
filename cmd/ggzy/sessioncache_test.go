package main

import (
	"context"
	"testing"
	"time"

	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/trading"
)

// Two instances on one database, each with its session cache kept fresh by
// the database's notifications (migration 00035) on its live hub: a token
// B has cached stops working on B once A logs it out, an account B has
// cached stops working once A disables it, and a change made straight in
// the database (a bidder's profile, a TRUNCATE) reaches B's answers too. B answers from
// its cache in between, which is what the cache is for.
func TestSessionCacheAcrossInstances(t *testing.T) {
	t.Parallel()
	url, s3 := testenv.DatabaseURL(t), testenv.Storage(t)
	appA, srvA := newTestServer(t, configOn(t, url, s3))
	appB, srvB := newTestServer(t, configOn(t, url, s3))
	cb := appB.Trading.Sessions
	if cb == nil || appA.Trading.Sessions == nil {
		t.Fatal("the served instances have no session cache")
	}
	waitUntil(t, "B's cache listening", func() bool { return cb.Stats().Up })

	admin := mustCreate(t, appA, trading.RoleAdmin, "admin1", "admin2026")
	var e trading.ErrorBody
	if code := call(t, "POST", srvA.URL+"/api/v1/bidders", "", map[string]any{"kind": "enterprise", "name": "福建测试建设有限公司",
		"id_number": "91350100M000100Y43", "legal_rep": "张三", "phone": "13800138000", "email": "a@example.com",
		"username": "fjcs", "password": "abcd1234"}, &e); code != 201 {
		t.Fatalf("sign-up: %d %+v", code, e)
	}
	login := func(srvURL, user, pass string) string {
		t.Helper()
		var tok trading.TokenResponse
		if code := call(t, "POST", srvURL+"/api/v1/auth/login", "", map[string]string{"username": user, "password": pass}, &tok); code != 200 {
			t.Fatalf("login %s: %d", user, code)
		}
		return tok.Token
	}
	me := func(token string) (int, trading.Account) {
		t.Helper()
		var acc trading.Account
		code := call(t, "GET", srvB.URL+"/api/v1/me", token, nil, &acc)
		return code, acc
	}

	// B reads the session once, then answers from its cache.
	if acc, err := appB.Trading.SessionAccount(context.Background(), trading.SessionAPI, login(srvA.URL, "fjcs", "abcd1234")); err != nil || acc.Bidder == nil || acc.Bidder.Phone != "13800138000" {
		t.Fatalf("B's session check: %v %+v", err, acc)
	}
	tok := login(srvA.URL, "fjcs", "abcd1234")
	hits := cb.Stats().Hits
	for range 3 {
		if code, _ := me(tok); code != 200 {
			t.Fatalf("me on B: %d", code)
		}
	}
	if st := cb.Stats(); st.Hits < hits+2 {
		t.Fatalf("B did not answer from its cache: %+v", st)
	}

	// A bidder's profile changed in the database (no code of ours ran):
	// the trigger tells B, and B's next answer has the new phone.
	forgets := cb.Stats().Forgets
	if err := appA.DB.Exec(`UPDATE bidders SET phone = '13900139000' WHERE account_id = (SELECT id FROM accounts WHERE username = 'fjcs')`).Error; err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "B hearing of the profile change", func() bool { return cb.Stats().Forgets > forgets })
	// B's session check itself (what every page and API call of B uses;
	// /api/v1/me reads the account again, so it would not show a stale cache).
	if acc, err := appB.Trading.SessionAccount(context.Background(), trading.SessionAPI, tok); err != nil || acc.Bidder == nil || acc.Bidder.Phone != "13900139000" {
		t.Fatalf("B's session check after the change: %v %+v", err, acc)
	}

	// Logged out on A.
	if code, _ := me(tok); code != 200 {
		t.Fatal("not cached again")
	}
	forgets = cb.Stats().Forgets
	if code := call(t, "POST", srvA.URL+"/api/v1/auth/logout", tok, nil, nil); code != 204 {
		t.Fatalf("logout on A: %d", code)
	}
	waitUntil(t, "B hearing of the logout", func() bool { return cb.Stats().Forgets > forgets })
	if code, _ := me(tok); code != 401 {
		t.Fatalf("a token logged out on A still opens B: %d", code)
	}

	// Every session dropped by an operator (TRUNCATE: no row triggers
	// fire; a statement trigger notifies "*").
	tok = login(srvA.URL, "fjcs", "abcd1234")
	if code, _ := me(tok); code != 200 {
		t.Fatal("the new token on B")
	}
	forgets = cb.Stats().Forgets
	if err := appA.DB.Exec(`TRUNCATE sessions`).Error; err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "B hearing of the truncation", func() bool { return cb.Stats().Forgets > forgets })
	if code, _ := me(tok); code != 401 {
		t.Fatalf("a token truncated away still opens B: %d", code)
	}

	// Disabled on A.
	tok = login(srvA.URL, "fjcs", "abcd1234")
	if code, _ := me(tok); code != 200 {
		t.Fatal("the new token on B")
	}
	var acc trading.Account
	if code := call(t, "GET", srvA.URL+"/api/v1/me", tok, nil, &acc); code != 200 {
		t.Fatal(code)
	}
	forgets = cb.Stats().Forgets
	// The administrators' page (/admin/users/:id/disable) calls this on A.
	if err := appA.Trading.SetDisabled(context.Background(), trading.Actor{AccountID: admin.ID, Username: "admin1", Role: trading.RoleAdmin}, acc.ID, true); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "B hearing of the disabling", func() bool { return cb.Stats().Forgets > forgets })
	if code, _ := me(tok); code != 401 {
		t.Fatalf("a disabled account's token still opens B: %d", code)
	}
}

// waitUntil polls cond for up to 20 s (a hang guard, not a speed assertion).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
