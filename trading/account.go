package trading

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
	"gorm.io/gorm"
)

// Role of an account.
type Role string

const (
	RoleBidder     Role = "bidder"     // 投标人/竞买人/供应商
	RoleAgent      Role = "agent"      // 代理机构
	RoleSupervisor Role = "supervisor" // 交易中心监督
	RoleAdmin      Role = "admin"      // 系统管理员
)

// Roles in display order.
var Roles = []Role{RoleBidder, RoleAgent, RoleSupervisor, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// Name is the role's Chinese name.
func (r Role) Name() string {
	switch r {
	case RoleBidder:
		return "投标人/竞买人"
	case RoleAgent:
		return "代理机构"
	case RoleSupervisor:
		return "交易中心监督"
	case RoleAdmin:
		return "系统管理员"
	}
	return string(r)
}

// Account is a person or organisation that signs in.
type Account struct {
	ID           int64     `gorm:"column:id;primaryKey" json:"id"`
	Username     string    `gorm:"column:username" json:"username"`
	PasswordHash string    `gorm:"column:password_hash" json:"-"`
	Role         Role      `gorm:"column:role" json:"role"`
	DisplayName  string    `gorm:"column:display_name" json:"display_name"`
	Disabled     bool      `gorm:"column:disabled" json:"disabled"`
	CreatedAt    time.Time `gorm:"column:created_at" json:"created_at"`
	UpdatedAt    time.Time `gorm:"column:updated_at" json:"-"`
	Bidder       *Bidder   `gorm:"foreignKey:AccountID" json:"bidder,omitempty"`
}

func (Account) TableName() string { return "accounts" }

// BidderKind tells an enterprise from a natural person.
type BidderKind string

const (
	BidderEnterprise BidderKind = "enterprise" // 企业，统一社会信用代码
	BidderPerson     BidderKind = "person"     // 自然人，居民身份证号码
)

// Bidder is the identity of a bidder account.
type Bidder struct {
	AccountID        int64      `gorm:"column:account_id;primaryKey" json:"-"`
	Kind             BidderKind `gorm:"column:kind" json:"kind"`
	Name             string     `gorm:"column:name" json:"name"`
	IDNumber         string     `gorm:"column:id_number" json:"id_number"`
	LegalRep         string     `gorm:"column:legal_rep" json:"legal_rep,omitempty"`
	Phone            string     `gorm:"column:phone" json:"phone"`
	Email            string     `gorm:"column:email" json:"email"`
	ChecksumOverride bool       `gorm:"column:checksum_override" json:"checksum_override,omitempty"`
}

func (Bidder) TableName() string { return "bidders" }

// SignUp is what a bidder (or an admin on their behalf) enters to register.
type SignUp struct {
	Kind     BidderKind `json:"kind" form:"kind"`
	Name     string     `json:"name" form:"name"`
	IDNumber string     `json:"id_number" form:"id_number"`
	LegalRep string     `json:"legal_rep" form:"legal_rep"`
	Phone    string     `json:"phone" form:"phone"`
	Email    string     `json:"email" form:"email"`
	Username string     `json:"username" form:"username"`
	Password string     `json:"password" form:"password"`
	// AllowChecksumFailure is honoured only for administrators: an early
	// pilot credit code that fails the GB 32100 checksum (ECOSYSTEM.md).
	AllowChecksumFailure bool `json:"allow_checksum_failure" form:"allow_checksum_failure"`
}

var (
	usernameRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,32}$`)
	phoneRe    = regexp.MustCompile(`^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$`)
)

func validateUsername(u string) error {
	if !usernameRe.MatchString(u) {
		return Invalid("username", "用户名须为3至32位字母、数字、下划线、点或连字符")
	}
	return nil
}

// validatePassword asks for at least 8 characters with a letter and a digit.
func validatePassword(p string) error {
	if utf8.RuneCountInString(p) < 8 || len(p) > 128 {
		return Invalid("password", "密码长度须为8至128个字符")
	}
	var letter, digit bool
	for _, r := range p {
		letter = letter || unicode.IsLetter(r)
		digit = digit || unicode.IsDigit(r)
	}
	if !letter || !digit {
		return Invalid("password", "密码须同时包含字母和数字")
	}
	return nil
}

func validateName(field, label, v string, min, max int) error {
	n := utf8.RuneCountInString(v)
	if n < min || n > max {
		return Invalid(field, "%s长度须为%d至%d个字符", label, min, max)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return Invalid(field, "%s不能包含控制字符", label)
		}
	}
	return nil
}

// normalize trims the fields and upper-cases the identity number.
func (s *SignUp) normalize() {
	s.Name = strings.TrimSpace(s.Name)
	s.IDNumber = strings.ToUpper(strings.TrimSpace(s.IDNumber))
	s.LegalRep = strings.TrimSpace(s.LegalRep)
	s.Phone = strings.TrimSpace(s.Phone)
	s.Email = strings.TrimSpace(s.Email)
	s.Username = strings.TrimSpace(s.Username)
}

// Validate checks every field and returns the first problem, naming it.
func (s *SignUp) Validate(allowChecksum bool, today time.Time) error {
	s.normalize()
	switch s.Kind {
	case BidderEnterprise:
		if err := validateName("name", "单位名称", s.Name, 2, 100); err != nil {
			return err
		}
		if err := CheckCreditCode(s.IDNumber); err != nil && !(allowChecksum && errors.Is(err, ErrChecksum)) {
			return err
		}
		if err := validateName("legal_rep", "法定代表人", s.LegalRep, 2, 50); err != nil {
			return err
		}
	case BidderPerson:
		if err := validateName("name", "姓名", s.Name, 2, 50); err != nil {
			return err
		}
		if err := CheckResidentID(s.IDNumber, today); err != nil && !(allowChecksum && errors.Is(err, ErrChecksum)) {
			return err
		}
	default:
		return Invalid("kind", "主体类型须为 enterprise（企业）或 person（自然人）")
	}
	if !phoneRe.MatchString(s.Phone) {
		return Invalid("phone", "联系电话格式不正确（手机号11位，或带区号的固定电话）")
	}
	if a, err := mail.ParseAddress(s.Email); err != nil || a.Address != s.Email || len(s.Email) > 254 {
		return Invalid("email", "电子邮箱格式不正确")
	}
	if err := validateUsername(s.Username); err != nil {
		return err
	}
	return validatePassword(s.Password)
}

// PasswordParams are the argon2id parameters for new hashes (stored hashes
// carry their own, so these can be raised at any time).
type PasswordParams = argon2id.Params

// DefaultPasswordParams follow the argon2id RFC's second recommendation.
var DefaultPasswordParams = argon2id.Params{Memory: 64 * 1024, Iterations: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32}

func (s *Service) hashPassword(p string) (string, error) {
	return argon2id.CreateHash(p, &s.Passwords)
}

// SignUpBidder creates a bidder account online (or, with admin set, by an
// administrator who may override a failed credit-code checksum).
func (s *Service) SignUpBidder(ctx context.Context, a Actor, in SignUp) (*Account, error) {
	override := a.Role == RoleAdmin && in.AllowChecksumFailure
	if err := in.Validate(override, s.Clock.Now()); err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	acc := &Account{Username: in.Username, PasswordHash: hash, Role: RoleBidder, DisplayName: in.Name,
		CreatedAt: now, UpdatedAt: now}
	checksumFailed := errors.Is(CheckCreditCodeOrID(in.Kind, in.IDNumber, s.Clock.Now()), ErrChecksum)
	err = Transact(ctx, s.DB, func(tx *gorm.DB) error {
		if err := tx.Omit("Bidder").Create(acc).Error; err != nil {
			return err
		}
		acc.Bidder = &Bidder{AccountID: acc.ID, Kind: in.Kind, Name: in.Name, IDNumber: in.IDNumber,
			LegalRep: in.LegalRep, Phone: in.Phone, Email: in.Email, ChecksumOverride: checksumFailed}
		if err := tx.Create(acc.Bidder).Error; err != nil {
			return err
		}
		if a.AccountID == 0 && a.Role != SystemActor.Role {
			// Online sign-up: the new bidder is the actor.
			a = Actor{AccountID: acc.ID, Username: acc.Username, Role: RoleBidder, IP: a.IP}
		}
		summary := fmt.Sprintf("注册投标人 %s（%s %s）", in.Name, in.Kind, in.IDNumber)
		if checksumFailed {
			summary += "；管理员核实后放行校验位不符的代码"
		}
		return Audit(tx, now, a, "account.signup", "account", fmt.Sprint(acc.ID), summary)
	})
	return acc, translateAccountErr(err)
}

// CheckCreditCodeOrID checks the identity number of the given kind.
func CheckCreditCodeOrID(kind BidderKind, id string, today time.Time) error {
	if kind == BidderPerson {
		return CheckResidentID(id, today)
	}
	return CheckCreditCode(id)
}

func translateAccountErr(err error) error {
	switch {
	case err == nil:
		return nil
	case IsUniqueViolation(err, "accounts_username_key"):
		return Conflict("username", "用户名已被使用，请换一个")
	case IsUniqueViolation(err, "bidders_id_number_key"):
		return Conflict("id_number", "该统一社会信用代码（或身份证号码）已注册，请直接登录或找回账号")
	}
	return err
}

// NewAccount is what an administrator enters to create a staff account.
type NewAccount struct {
	Role        Role   `json:"role" form:"role"`
	Username    string `json:"username" form:"username"`
	DisplayName string `json:"display_name" form:"display_name"`
	Password    string `json:"password" form:"password"`
}

// CreateAccount creates an agent, supervisor or admin account (admins only;
// the CLI acts as the system).
func (s *Service) CreateAccount(ctx context.Context, a Actor, in NewAccount) (*Account, error) {
	if a.Role != RoleAdmin && a.Role != SystemActor.Role {
		return nil, Forbidden("只有系统管理员可以创建代理机构、监督和管理员账号")
	}
	in.Username, in.DisplayName = strings.TrimSpace(in.Username), strings.TrimSpace(in.DisplayName)
	if in.Role == RoleBidder {
		return nil, Invalid("role", "投标人账号须填写主体信息，请通过投标人注册创建")
	}
	if !in.Role.Valid() {
		return nil, Invalid("role", "角色须为 agent、supervisor 或 admin")
	}
	if err := validateUsername(in.Username); err != nil {
		return nil, err
	}
	if in.DisplayName == "" {
		in.DisplayName = in.Username
	}
	if err := validateName("display_name", "名称", in.DisplayName, 1, 100); err != nil {
		return nil, err
	}
	if err := validatePassword(in.Password); err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	acc := &Account{Username: in.Username, PasswordHash: hash, Role: in.Role, DisplayName: in.DisplayName,
		CreatedAt: now, UpdatedAt: now}
	err = Transact(ctx, s.DB, func(tx *gorm.DB) error {
		if err := tx.Omit("Bidder").Create(acc).Error; err != nil {
			return err
		}
		return Audit(tx, now, a, "account.create", "account", fmt.Sprint(acc.ID),
			fmt.Sprintf("创建%s账号 %s（%s）", in.Role.Name(), in.Username, in.DisplayName))
	})
	return acc, translateAccountErr(err)
}

// SetDisabled disables or enables an account and revokes its sessions.
func (s *Service) SetDisabled(ctx context.Context, a Actor, id int64, disabled bool) error {
	if a.Role != RoleAdmin {
		return Forbidden("只有系统管理员可以停用或启用账号")
	}
	if id == a.AccountID {
		return Invalid("id", "不能停用自己的账号")
	}
	now := s.Clock.Now()
	if s.Sessions != nil {
		// At once on this instance, after the commit; the others hear it
		// from the database (migration 00035).
		defer s.Sessions.Forget(id)
	}
	return Transact(ctx, s.DB, func(tx *gorm.DB) error {
		res := tx.Model(&Account{}).Where("id = ?", id).Updates(map[string]any{"disabled": disabled, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return NotFound("账号")
		}
		if disabled {
			if err := tx.Model(&Session{}).Where("account_id = ? AND revoked_at IS NULL", id).Update("revoked_at", now).Error; err != nil {
				return err
			}
		}
		action := map[bool]string{true: "account.disable", false: "account.enable"}[disabled]
		return Audit(tx, now, a, action, "account", fmt.Sprint(id), Label(LabelAction, action)) // the summary is read by people
	})
}

// Account loads an account with its bidder identity.
func (s *Service) Account(ctx context.Context, id int64) (*Account, error) {
	var acc Account
	if err := First(s.DB.WithContext(ctx).Preload("Bidder"), &acc, "账号", id); err != nil {
		return nil, err
	}
	return &acc, nil
}

// ListAccounts returns accounts for the admin page, newest first.
func (s *Service) ListAccounts(ctx context.Context, role Role, offset, limit int) ([]Account, int64, error) {
	q := s.DB.WithContext(ctx).Model(&Account{})
	if role != "" {
		q = q.Where("role = ?", role)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var out []Account
	err := q.Preload("Bidder").Order("id DESC").Offset(offset).Limit(limit).Find(&out).Error
	return out, total, err
}

// Authenticate checks a username and password.
func (s *Service) Authenticate(ctx context.Context, username, password string) (*Account, error) {
	var acc Account
	err := First(s.DB.WithContext(ctx).Where("lower(username) = lower(?)", strings.TrimSpace(username)), &acc, "账号")
	if errors.Is(err, ErrNotFound) {
		argon2id.ComparePasswordAndHash(password, s.dummyHash())
		return nil, Unauthorized("用户名或密码错误")
	}
	if err != nil {
		return nil, err
	}
	ok, err := argon2id.ComparePasswordAndHash(password, acc.PasswordHash)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, Unauthorized("用户名或密码错误")
	}
	if acc.Disabled {
		return nil, Forbidden("该账号已停用，请联系交易中心")
	}
	return &acc, nil
}
