package trading

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/ggzy/ggzy/trading/rules"
)

// Error is a domain error that knows how to present itself: the HTTP status,
// a stable code, a Chinese message, and the field and rule it concerns.
// bidding and deposits use it too, so one error handler maps them all.
type Error struct {
	Status  int
	Code    string
	Message string
	Field   string
	Rule    string
	Err     error // the sentinel or cause, for errors.Is
	// Violations lists every rule broken, when the rule book refused.
	Violations []rules.Violation
}

func (e *Error) Error() string {
	s := e.Message
	if e.Field != "" {
		s = e.Field + ": " + s
	}
	if e.Rule != "" {
		s += " [" + e.Rule + "]"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Sentinel errors: compare with errors.Is.
var (
	ErrInvalid      = errors.New("invalid input")
	ErrNotFound     = errors.New("not found")
	ErrForbidden    = errors.New("forbidden")
	ErrUnauthorized = errors.New("unauthorized")
	ErrConflict     = errors.New("conflict")
	ErrRuleBroken   = errors.New("rule broken")
)

// Invalid says a field's value is not acceptable (400).
func Invalid(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid", Field: field,
		Message: fmt.Sprintf(format, args...), Err: ErrInvalid}
}

// RuleBroken says the input breaks a rule of the rule book (422).
func RuleBroken(rule, field, format string, args ...any) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "rule_broken", Rule: rule, Field: field,
		Message: fmt.Sprintf(format, args...), Err: ErrRuleBroken}
}

// NotFound says the thing does not exist or may not be seen (404).
func NotFound(what string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: what + "不存在", Err: ErrNotFound}
}

// Forbidden says the account may not do this (403).
func Forbidden(msg string) *Error {
	return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: msg, Err: ErrForbidden}
}

// Unauthorized says the request is not signed in (401).
func Unauthorized(msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: msg, Err: ErrUnauthorized}
}

// Conflict says the request clashes with the current state (409).
func Conflict(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusConflict, Code: "conflict", Field: field,
		Message: fmt.Sprintf(format, args...), Err: ErrConflict}
}

// RuleViolations refuses an action the rule book forbids (422), listing
// every rule broken; Rule and Field name the first.
func RuleViolations(action string, vs []rules.Violation) *Error {
	msgs := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = v.Error()
	}
	return &Error{Status: http.StatusUnprocessableEntity, Code: "rule_broken", Rule: vs[0].Rule, Field: vs[0].Field,
		Message: action + "违反统一交易规则：" + strings.Join(msgs, "；"), Err: ErrRuleBroken, Violations: vs}
}
