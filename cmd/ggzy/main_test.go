package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/trading"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// quietLog discards the servers' logs; GGZY_TEST_LOG=1 shows them.
var quietLog = func() *slog.Logger {
	if os.Getenv("GGZY_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}()

// testConfig points the platform at this test's own database and bucket.
func testConfig(t testing.TB) Config {
	t.Helper()
	return configOn(t, testenv.DatabaseURL(t), testenv.Storage(t))
}

// configOn points the platform at the given database and bucket, with a
// receipt keyring of the test's own.
func configOn(t testing.TB, url string, s3 testenv.S3) Config {
	t.Helper()
	keys := filepath.Join(t.TempDir(), "receipt-keyring.json")
	if _, err := sealed.NewKeyringFile(keys, time.Now()); err != nil {
		t.Fatal(err)
	}
	return Config{DatabaseURL: url, S3Endpoint: s3.Endpoint, S3AccessKey: s3.AccessKey,
		S3SecretKey: s3.SecretKey, S3Bucket: s3.Bucket, LoginPerMin: 1000, Addr: "127.0.0.1:0", ReceiptKeys: keys,
		SessionCache: 10 * time.Second} // as served by default
}

// testNow is where the test server's clock stands: a Monday in a year
// whose working-day calendar is known, so no test depends on today's date.
var testNow = time.Date(2026, 3, 2, 9, 0, 0, 0, trading.Shanghai)

// newTestServer serves the whole platform on a test database and bucket,
// with a manual clock at testNow.
func newTestServer(t *testing.T, cfg Config) (*App, *httptest.Server) {
	t.Helper()
	app, err := OpenApp(context.Background(), cfg, modeServe, quietLog)
	if err != nil {
		t.Fatal(err)
	}
	app.SetClock(trading.NewManualClock(testNow))
	app.Trading.Passwords = testenv.CheapPasswords
	e, err := NewServer(app)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(validateAPI(t, e))
	t.Cleanup(func() { srv.Close(); app.Close() })
	return app, srv
}

// call sends a JSON request and decodes the JSON answer into out (if any).
func call(t *testing.T, method, url, token string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if s, ok := body.(string); ok {
		r = strings.NewReader(s)
	} else if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: decode: %v", method, url, err)
		}
	}
	return resp.StatusCode
}

func mustCreate(t *testing.T, app *App, role trading.Role, username, password string) *trading.Account {
	t.Helper()
	acc, err := app.Trading.CreateAccount(context.Background(), trading.SystemActor,
		trading.NewAccount{Role: role, Username: username, DisplayName: username, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	return acc
}
