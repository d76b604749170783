package deposits

import (
	"errors"
	"strings"
	"testing"
)

func TestVirtualAccountNumber(t *testing.T) {
	v := VirtualAccounts{Prefix: "62170088"}
	cases := []struct {
		seq  int64
		want string
	}{
		// Luhn over 62170088 0000000001: check digit 7 (checked against an independent Python Luhn).
		{1, "6217008800000000017"},
		{42, "6217008800000000421"},
		{9_999_999_999, "6217008899999999999"},
	}
	for _, c := range cases {
		got, err := v.Number(c.seq)
		if err != nil || got != c.want {
			t.Errorf("Number(%d) = %q, %v; want %q", c.seq, got, err, c.want)
		}
		if !luhnValid(got) {
			t.Errorf("Number(%d) = %q fails a plain Luhn check", c.seq, got)
		}
		if seq, err := v.Parse(got); err != nil || seq != c.seq {
			t.Errorf("Parse(%q) = %d, %v; want %d", got, seq, err, c.seq)
		}
	}
	for _, seq := range []int64{0, -1, 10_000_000_000} {
		if _, err := v.Number(seq); !errors.Is(err, ErrVirtualAccount) {
			t.Errorf("Number(%d): err = %v, want ErrVirtualAccount", seq, err)
		}
	}
	for _, p := range []string{"", "12345", "12345678901", "12a456", "１２３４５６"} {
		if _, err := (VirtualAccounts{Prefix: p}).Number(1); !errors.Is(err, ErrVirtualAccount) {
			t.Errorf("prefix %q: err = %v, want ErrVirtualAccount", p, err)
		}
	}
}

// luhnValid is the textbook Luhn check, independent of luhnDigit.
func luhnValid(s string) bool {
	sum := 0
	for i := 0; i < len(s); i++ {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func TestVirtualAccountInjective(t *testing.T) {
	v := VirtualAccounts{Prefix: "123456"}
	seen := make(map[string]int64)
	seqs := []int64{}
	for i := int64(1); i <= 20000; i++ {
		seqs = append(seqs, i)
	}
	for i := int64(1); i <= 20000; i++ {
		seqs = append(seqs, 9_999_999_999-i, i*499_979)
	}
	for _, seq := range seqs {
		n, err := v.Number(seq)
		if err != nil {
			t.Fatal(err)
		}
		if prev, dup := seen[n]; dup && prev != seq {
			t.Fatalf("Number(%d) = Number(%d) = %s", seq, prev, n)
		}
		seen[n] = seq
		if got, err := v.Parse(n); err != nil || got != seq {
			t.Fatalf("Parse(Number(%d)) = %d, %v", seq, got, err)
		}
	}
	// Different prefixes never collide either: the length or the prefix differs.
	a, _ := VirtualAccounts{Prefix: "123456"}.Number(7)
	b, _ := VirtualAccounts{Prefix: "1234560"}.Number(7)
	if a == b || (VirtualAccounts{Prefix: "1234560"}).Valid(a) {
		t.Errorf("prefixes 123456 and 1234560 confuse %s and %s", a, b)
	}
}

func TestVirtualAccountDetectsTypos(t *testing.T) {
	v := VirtualAccounts{Prefix: "62170088"}
	for _, seq := range []int64{1, 42, 90, 1_234_567_890, 9_090_909_090} {
		n, _ := v.Number(seq)
		// Every single-digit substitution is caught.
		for i := 0; i < len(n); i++ {
			for d := byte('0'); d <= '9'; d++ {
				if d == n[i] {
					continue
				}
				typo := n[:i] + string(d) + n[i+1:]
				if v.Valid(typo) {
					t.Errorf("%s accepted (typo of %s at %d)", typo, n, i)
				}
			}
		}
		// Adjacent transpositions are caught, except Luhn's blind spot 09 ↔ 90.
		for i := 0; i+1 < len(n); i++ {
			if n[i] == n[i+1] {
				continue
			}
			swapped := n[:i] + string(n[i+1]) + string(n[i]) + n[i+2:]
			blind := (n[i] == '0' && n[i+1] == '9') || (n[i] == '9' && n[i+1] == '0')
			if v.Valid(swapped) != blind {
				t.Errorf("transposition %s of %s at %d: Valid = %v, want %v", swapped, n, i, !blind, blind)
			}
		}
	}
}

func TestVirtualAccountInvalid(t *testing.T) {
	v := VirtualAccounts{Prefix: "62170088"}
	good, _ := v.Number(42)
	for _, s := range []string{
		"", good[:len(good)-1], good + "0", "7217008800000000426",
		strings.Replace(good, "6", "６", 1), " " + good[1:], "6217008800000000009", // seq 0 with a correct check digit
	} {
		if v.Valid(s) {
			t.Errorf("Valid(%q) = true", s)
		}
		if _, err := v.Parse(s); !errors.Is(err, ErrVirtualAccount) {
			t.Errorf("Parse(%q): err = %v", s, err)
		}
	}
}

func FuzzVirtualAccountValid(f *testing.F) {
	f.Add("62170088", "6217008800000000421")
	f.Add("123456", "12345600000000017")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, prefix, s string) {
		v := VirtualAccounts{Prefix: prefix}
		if !v.Valid(s) {
			return
		}
		seq, err := v.Parse(s)
		if err != nil {
			t.Fatalf("Valid(%q) but Parse: %v", s, err)
		}
		if n, err := v.Number(seq); err != nil || n != s {
			t.Fatalf("Number(Parse(%q)) = %q, %v", s, n, err)
		}
	})
}
