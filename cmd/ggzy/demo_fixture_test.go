package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/trading"
)

// demoOutput is what loading the demo printed, for tests that check it.
var demoOutput string

// demoFixture is the demo data set (`ggzy demo`) loaded once per test
// binary, on the test clock (testNow) and with the cheap password hashing
// newTestServer uses. Loading it takes longer than anything else the
// tests do; copying it takes a database copy and a few object copies.
var demoFixture = testenv.NewFixture("demo", func(url string, s3 testenv.S3) error {
	dir, err := os.MkdirTemp("", "ggzy-demo-fixture-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	keys := filepath.Join(dir, "receipt-keyring.json")
	if _, err := sealed.NewKeyringFile(keys, time.Now()); err != nil {
		return err
	}
	cfg := Config{DatabaseURL: url, S3Endpoint: s3.Endpoint, S3AccessKey: s3.AccessKey,
		S3SecretKey: s3.SecretKey, S3Bucket: s3.Bucket, LoginPerMin: 1000, Addr: "127.0.0.1:0", ReceiptKeys: keys}
	app, err := OpenApp(context.Background(), cfg, modeServe, quietLog)
	if err != nil {
		return err
	}
	// Every connection must be closed before the database can be copied.
	defer app.Close()
	app.SetClock(trading.NewManualClock(testNow))
	app.Trading.Passwords = testenv.CheapPasswords
	var out bytes.Buffer
	if err := loadDemo(context.Background(), app, &out); err != nil {
		return fmt.Errorf("load demo: %w", err)
	}
	demoOutput = out.String()
	return nil
})

// demoConfig is testConfig over this test's own copy of the demo data set.
func demoConfig(t *testing.T) Config {
	t.Helper()
	url, s3 := demoFixture.Clone(t)
	return configOn(t, url, s3)
}
