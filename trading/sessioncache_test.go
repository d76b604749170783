package trading

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The session cache answers only what the database would: nothing while it
// is not listening, never past the session's expiry, never after this
// instance's logout or disabling, never an entry read across a
// notification, and never a value a caller has changed.
func TestSessionCache(t *testing.T) {
	t.Parallel()
	s, clock := newTestService(t)
	ctx := context.Background()
	c := NewSessionCache(time.Hour)
	c.Silence = time.Hour // no KeepAlive here; its own test is below
	s.Sessions = c
	admin, err := s.CreateAccount(ctx, SystemActor, NewAccount{Role: RoleAdmin, Username: "admin1", Password: "secret123"})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := s.SignUpBidder(ctx, SystemActor, validSignUp("cachebidder", "91350100M000100Y43"))
	if err != nil {
		t.Fatal(err)
	}
	login := func() string {
		t.Helper()
		tok, _, err := s.Login(ctx, SessionAPI, "cachebidder", "secret123", "10.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	check := func(tok string) (*Account, error) { return s.SessionAccount(ctx, SessionAPI, tok) }
	tok := login()

	// Not listening yet (no Up): read every time, nothing kept.
	for range 2 {
		if _, err := check(tok); err != nil {
			t.Fatal(err)
		}
	}
	if st := c.Stats(); st.Entries != 0 || st.Hits != 0 {
		t.Fatalf("before Up: %+v", st)
	}

	c.Up()
	a1, err := check(tok)
	if err != nil {
		t.Fatal(err)
	}
	a1.DisplayName, a1.Bidder.Name = "changed by a caller", "changed by a caller"
	a2, err := check(tok)
	if err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Entries != 1 || st.Hits != 1 {
		t.Fatalf("after two reads: %+v", st)
	}
	if a2.ID != acc.ID || a2.Bidder == nil || a2.Bidder.Name != "福建测试建设有限公司" || a2.DisplayName == "changed by a caller" {
		t.Fatalf("the cached account: %+v %+v", a2, a2.Bidder)
	}

	// Down: the cache answers nothing, and what it held is gone.
	c.Down()
	if _, err := check(tok); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Entries != 0 || st.Hits != 1 {
		t.Fatalf("while down: %+v", st)
	}
	c.Up()

	// A notification during the read: what was read is not kept.
	if _, ok := c.get(sessionKey{kind: SessionAPI}, clock.Now()); ok {
		t.Fatal("an unknown session answered")
	}
	gen := c.begin()
	c.Notify(itoa(acc.ID))
	var key sessionKey
	key.kind = SessionAPI
	copy(key.hash[:], hashToken(tok))
	c.put(key, gen, a2, clock.Now().Add(time.Hour))
	if _, ok := c.get(key, clock.Now()); ok {
		t.Fatal("an entry read across a notification was kept")
	}

	// Expiry by the service's clock, cached or not.
	if _, err := check(tok); err != nil {
		t.Fatal(err)
	}
	clock.Advance(s.APITokenTTL + time.Second)
	if _, err := check(tok); err == nil {
		t.Fatal("an expired session answered from the cache")
	}

	// Logout on this instance: refused at once, not after a notification.
	tok = login()
	if _, err := check(tok); err != nil {
		t.Fatal(err)
	}
	if err := s.Logout(ctx, Actor{AccountID: acc.ID, Username: "cachebidder", Role: RoleBidder}, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := check(tok); err == nil {
		t.Fatal("a session logged out on this instance still answered")
	}

	// Disabled on this instance: the same.
	tok = login()
	if _, err := check(tok); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDisabled(ctx, Actor{AccountID: admin.ID, Username: "admin1", Role: RoleAdmin}, acc.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := check(tok); err == nil {
		t.Fatal("a disabled account's session still answered")
	}

	// Another account forgotten during a read does not keep this one out.
	gen = c.begin()
	c.Forget(acc.ID + 1000)
	c.put(key, gen, a2, clock.Now().Add(time.Hour))
	if _, ok := c.get(key, clock.Now()); !ok {
		t.Fatal("an entry was kept out by another account's Forget")
	}
	// A truncated table ("*") forgets everything; a ping nothing.
	c.Notify("ping")
	if _, ok := c.get(key, clock.Now()); !ok {
		t.Fatal("a ping forgot an entry")
	}
	c.Notify("*")
	if st := c.Stats(); st.Entries != 0 {
		t.Fatalf("after a truncation: %+v", st)
	}

	// Bounded: full, expired entries go first, then everything.
	c.Max = 2
	c.TTL = time.Nanosecond
	c.put(sessionKey{kind: SessionWeb}, c.begin(), a2, clock.Now().Add(time.Hour)) // expired at once
	c.TTL = time.Hour
	c.put(sessionKey{kind: SessionAPI}, c.begin(), a2, clock.Now().Add(time.Hour))
	c.put(key, c.begin(), a2, clock.Now().Add(time.Hour))
	if st := c.Stats(); st.Entries != 2 {
		t.Fatalf("full with one expired: %+v", st)
	}
	if _, ok := c.get(key, clock.Now()); !ok {
		t.Fatal("the newest entry is missing")
	}
	c.put(sessionKey{kind: SessionWeb, hash: [32]byte{1}}, c.begin(), a2, clock.Now().Add(time.Hour))
	if st := c.Stats(); st.Entries != 1 {
		t.Fatalf("full, nothing expired: %+v", st)
	}

	// Silence: a channel not heard from for Silence is not trusted (a
	// connection dead without either end noticing); a ping restores it.
	c.Silence = 50 * time.Millisecond
	time.Sleep(100 * time.Millisecond)
	if _, ok := c.get(sessionKey{kind: SessionWeb, hash: [32]byte{1}}, clock.Now()); ok {
		t.Fatal("answered after a silence")
	}
	c.Silence = time.Hour
	c.Notify("ping")
	if _, ok := c.get(sessionKey{kind: SessionWeb, hash: [32]byte{1}}, clock.Now()); !ok {
		t.Fatal("a ping did not restore the trust")
	}
}

// KeepAlive's pings reach the channel: with the live hub listening they keep
// every instance's cache trusted (cmd/ggzy's TestSessionCacheAcrossInstances
// runs it); here, that it notifies ggzy_auth with the ping.
func TestSessionCacheKeepAlivePings(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	c := NewSessionCache(time.Hour)
	c.Silence = 300 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	sqlDB, _ := s.DB.DB()
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "LISTEN "+AuthChannel); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); c.KeepAlive(ctx, s.DB) }()
	var got string
	err = conn.Raw(func(dc any) error {
		pc := dc.(interface {
			Conn() *pgx.Conn
		}).Conn()
		wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
		defer wcancel()
		n, err := pc.WaitForNotification(wctx)
		if err == nil {
			got = n.Payload
		}
		return err
	})
	cancel()
	<-done
	if err != nil || got != "ping" {
		t.Fatalf("KeepAlive's notification: %q %v", got, err)
	}
}
