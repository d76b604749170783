package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ggzy/ggzy/trading"
)

// demoAccount is one account of the deterministic demo data set. The
// passwords are public on purpose: the demo is for trying the platform.
type demoAccount struct {
	Role     trading.Role
	Username string
	Name     string
	Password string
	Bidder   *trading.SignUp
}

var demoAccounts = []demoAccount{
	{Role: trading.RoleAdmin, Username: "admin", Name: "系统管理员", Password: "admin-ggzy-2026"},
	{Role: trading.RoleSupervisor, Username: "jiandu", Name: "交易中心监督科", Password: "jiandu-ggzy-2026"},
	{Role: trading.RoleAgent, Username: "daili", Name: "福建某招标代理有限公司", Password: "daili-ggzy-2026"},
	{Role: trading.RoleBidder, Username: "toubiao", Name: "福建某建设工程有限公司", Password: "toubiao-ggzy-2026",
		Bidder: &trading.SignUp{Kind: trading.BidderEnterprise, IDNumber: "91350100M000100Y43",
			LegalRep: "张三", Phone: "13800138000", Email: "toubiao@example.com"}},
	{Role: trading.RoleBidder, Username: "jingmai", Name: "李四", Password: "jingmai-ggzy-2026",
		Bidder: &trading.SignUp{Kind: trading.BidderPerson, IDNumber: "11010519491231002X",
			Phone: "13900139000", Email: "jingmai@example.com"}},
}

// loadDemo creates the demo accounts that do not exist yet and prints them.
func loadDemo(ctx context.Context, app *App, out io.Writer) error {
	fmt.Fprintln(out, "演示账号 (demo accounts):")
	for _, d := range demoAccounts {
		var err error
		if d.Bidder != nil {
			in := *d.Bidder
			in.Username, in.Password, in.Name = d.Username, d.Password, d.Name
			_, err = app.Trading.SignUpBidder(ctx, trading.SystemActor, in)
		} else {
			_, err = app.Trading.CreateAccount(ctx, trading.SystemActor, trading.NewAccount{
				Role: d.Role, Username: d.Username, DisplayName: d.Name, Password: d.Password})
		}
		state := "created"
		if errors.Is(err, trading.ErrConflict) {
			state, err = "exists", nil
		}
		if err != nil {
			return fmt.Errorf("demo account %s: %w", d.Username, err)
		}
		fmt.Fprintf(out, "  %-10s %-12s 密码 %-20s %s (%s)\n", d.Role, d.Username, d.Password, d.Name, state)
	}
	return nil
}
