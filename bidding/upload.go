package bidding

// Uploads of tender documents (招标文件): the allowlist of file types and
// their first bytes, safe file names, and the stream to MinIO, hashed on
// the way (documents.go releases, lists and serves them).

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/minio/minio-go/v7"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/trading"
)

// fileType is an accepted extension: what its first bytes must be and the
// Content-Type the platform serves it with (never the client's).
type fileType struct {
	contentType string
	magics      [][]byte
}

var (
	magicPDF  = []byte("%PDF-")
	magicZIP  = []byte("PK\x03\x04")
	magicOLE  = []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") // .doc/.xls (OLE2 compound file)
	magicRAR  = []byte("Rar!\x1A\x07")                     // RAR 4 (…\x00) and RAR 5 (…\x01\x00)
	magic7z   = []byte("7z\xBC\xAF\x27\x1C")
	magicDWG  = []byte("AC10") // AC1012 … AC1032
	magicJPEG = []byte("\xFF\xD8\xFF")
	magicPNG  = []byte("\x89PNG\r\n\x1A\n")
)

// AllowedTypes is the extension allowlist of uploads: PDF, archives
// (ZIP, RAR, 7z), Office files old and new, AutoCAD drawings and scans
// (JPEG, PNG). A file's first bytes must match its extension, so a renamed
// executable or script is refused whatever it is called.
var AllowedTypes = map[string]fileType{
	".pdf":  {"application/pdf", [][]byte{magicPDF}},
	".zip":  {"application/zip", [][]byte{magicZIP}},
	".rar":  {"application/vnd.rar", [][]byte{magicRAR}},
	".7z":   {"application/x-7z-compressed", [][]byte{magic7z}},
	".doc":  {"application/msword", [][]byte{magicOLE}},
	".xls":  {"application/vnd.ms-excel", [][]byte{magicOLE}},
	".docx": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", [][]byte{magicZIP}},
	".xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", [][]byte{magicZIP}},
	".dwg":  {"image/vnd.dwg", [][]byte{magicDWG}},
	".jpg":  {"image/jpeg", [][]byte{magicJPEG}},
	".jpeg": {"image/jpeg", [][]byte{magicJPEG}},
	".png":  {"image/png", [][]byte{magicPNG}},
}

// allowedList is the allowlist as shown in messages.
const allowedList = ".pdf .zip .rar .7z .doc .docx .xls .xlsx .dwg .jpg .png"

// maxFilenameBytes is the longest stored name (documents.filename CHECK).
const maxFilenameBytes = 255

// sniffLen is how much of a file is read before anything is stored.
const sniffLen = 512

// partSize is minio-go's buffer per multipart part. With an unknown size it
// would otherwise choose parts of about 512 MiB and buffer each in memory.
const partSize = 16 << 20

// SanitizeFilename makes an uploaded file's name safe to show and to offer
// as a download name: the base name after any / or \, without control or
// invisible formatting characters (U+202E, which reverses the name's
// display, included) nor "<>|:*?, trimmed of dots and spaces, at most 255
// bytes (the stem is cut, the extension kept). Chinese is kept. The name is
// only ever a display name: objects are stored under generated keys.
func SanitizeFilename(name string) (string, error) {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for i, r := range name {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(name[i:]); size <= 1 {
				continue // invalid UTF-8
			}
		}
		if droppedRune(r) {
			continue
		}
		b.WriteRune(r)
	}
	name = strings.TrimFunc(b.String(), trimmedRune)
	if len(name) > maxFilenameBytes {
		ext := path.Ext(name)
		if len(ext) > 16 || strings.ContainsFunc(ext, unicode.IsSpace) {
			ext = "" // not an extension worth keeping
		}
		stem := strings.TrimSuffix(name, ext)
		stem = strings.TrimRightFunc(truncateBytes(stem, maxFilenameBytes-len(ext)), trimmedRune)
		name = stem + ext
	}
	if name == "" || name == "." || name == ".." || strings.TrimFunc(name, trimmedRune) != name {
		return "", trading.Invalid("file", "文件名无效")
	}
	return name, nil
}

func droppedRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp) ||
		strings.ContainsRune(`"<>|:*?/\`, r)
}

func trimmedRune(r rune) bool { return r == '.' || unicode.IsSpace(r) }

// truncateBytes cuts s to at most n bytes on a rune boundary.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ContentDisposition is the header of a download named name: an ASCII
// fallback for old clients (non-ASCII replaced by _) and the exact UTF-8
// name in filename* (RFC 6266, RFC 5987), which every current browser uses.
func ContentDisposition(name string) string {
	var ascii, enc strings.Builder
	for _, r := range name {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' || r == '%' {
			ascii.WriteByte('_')
		} else {
			ascii.WriteRune(r)
		}
	}
	for _, c := range []byte(name) {
		if isAttrChar(c) {
			enc.WriteByte(c)
		} else {
			fmt.Fprintf(&enc, "%%%02X", c)
		}
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` + enc.String()
}

// isAttrChar is RFC 5987's attr-char: sent as is, everything else is
// percent-encoded.
func isAttrChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}

// UploadInput is what is known about an upload before its bytes.
type UploadInput struct {
	Kind     DocumentKind
	Filename string // as the client sent it; sanitized by Upload
	// ReplacesID is the document of the same lot this one supersedes (0: none).
	ReplacesID int64
}

// checkType refuses a name whose extension is not allowed.
func checkType(name string) (fileType, error) {
	ext := strings.ToLower(path.Ext(name))
	t, ok := AllowedTypes[ext]
	if !ok {
		return t, trading.Invalid("file", "不支持的文件类型“%s”，允许的类型：%s", ext, allowedList).Wrapping(ErrFileType)
	}
	return t, nil
}

// tooLarge is the 413 of a file over the limit.
func tooLarge(limit int64) *trading.Error {
	return trading.TooLarge("file", "文件超过大小限制（%d MB）", limit>>20).Wrapping(ErrTooLarge)
}

// uploadReader hashes and counts the bytes on their way to the object
// store and fails the stream once more than max have passed, so PutObject
// aborts its multipart upload and nothing is stored.
type uploadReader struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	max  int64
	over bool
	err  error // the source's error, other than EOF
}

func (u *uploadReader) Read(p []byte) (int, error) {
	rest := u.max - u.n + 1 // never take more than one byte past the limit from the client
	if rest <= 0 {
		u.over = true
		return 0, ErrTooLarge
	}
	if int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := u.r.Read(p)
	u.n += int64(n)
	u.h.Write(p[:n])
	if u.n > u.max {
		u.over = true
		return n, ErrTooLarge
	}
	if err != nil && err != io.EOF {
		u.err = err
	}
	return n, err
}

// uploadTarget is what the upload checks settled before reading the body.
type uploadTarget struct {
	project *trading.Project
	lot     *trading.Lot
	regID   *int64
}

// authorizeUpload decides whether the actor may upload this kind of
// document to the lot: the project's agent uploads tender documents,
// drawings and clarifications; a bidder with a live application (竞买申请)
// uploads its own materials. It is run before the body is read and again
// in the transaction that records the document.
func authorizeUpload(tx *gorm.DB, a trading.Actor, lotID int64, in UploadInput) (*uploadTarget, error) {
	p, lot, err := lotOf(tx, lotID)
	if err != nil {
		return nil, err
	}
	if !trading.CanSeeSecrets(a, p) && p.Status == trading.ProjectDraft {
		return nil, trading.NotFound(trading.AnyLot) // a draft does not exist for anyone else
	}
	t := &uploadTarget{project: p, lot: lot}
	switch in.Kind {
	case DocTender, DocDrawing, DocClarification:
		if a.Role != trading.RoleAgent || a.AccountID != p.AgentID {
			return nil, trading.Forbidden("只有本项目的代理机构可以上传招标文件、图纸和澄清文件")
		}
	case DocMaterial:
		if a.Role != trading.RoleBidder {
			return nil, trading.Forbidden("申请材料由竞买人上传")
		}
		var reg Registration
		found, err := trading.Lookup(tx.Where("lot_id = ? AND bidder_id = ?", lotID, a.AccountID), &reg)
		if err != nil {
			return nil, err
		}
		if !found || reg.Kind != KindApplication || !reg.Status.Live() {
			return nil, trading.Forbidden("请先提交竞买申请，再上传申请材料")
		}
		t.regID = &reg.ID
	default:
		return nil, trading.Invalid("kind", "文件类别须为 tender、drawing、clarification 或 material")
	}
	if p.Status == trading.ProjectTerminated {
		return nil, trading.Conflict("lot_id", "该项目已终止，不能再上传文件")
	}
	if err := p.CheckRunning(); err != nil {
		return nil, err
	}
	if in.ReplacesID != 0 {
		var old Document
		found, err := trading.Lookup(tx.Where("id = ? AND lot_id = ?", in.ReplacesID, lotID), &old)
		if err != nil {
			return nil, err
		}
		sameFamily := found && (old.Kind == DocMaterial) == (in.Kind == DocMaterial) &&
			(in.Kind != DocMaterial || (old.RegistrationID != nil && *old.RegistrationID == *t.regID))
		if !sameFamily {
			return nil, trading.Invalid("replaces_id", "被替代的文件须为本%s的同类文件", t.project.Category.LotNoun())
		}
	}
	return t, nil
}

// Upload stores a document of a lot, streamed from body: the name is
// sanitized and its extension checked, a declared size over the limit is
// refused before reading (413), the first bytes must match the extension,
// and the rest goes to MinIO under a generated key while being hashed and
// counted; more than MaxUpload bytes abort the upload (413). Only a stored
// object gets a row, and a row that cannot be written takes its object
// with it, so an interrupted or refused upload leaves nothing behind.
// declaredSize is the file's size if the client stated it, else -1.
//
// Before the opening announcement the documents are version 1 and are released
// with it; afterwards an upload is part of the next clarification (version
// = the lot's released version + 1), released with the next amendment.
func (s *Service) Upload(ctx context.Context, a trading.Actor, lotID int64, in UploadInput, body io.Reader, declaredSize int64) (*Document, error) {
	name, err := SanitizeFilename(in.Filename)
	if err != nil {
		return nil, err
	}
	ft, err := checkType(name)
	if err != nil {
		return nil, err
	}
	if declaredSize > s.MaxUpload {
		return nil, tooLarge(s.MaxUpload)
	}
	// Refuse who may not upload before reading a byte of the body.
	if _, err := authorizeUpload(s.DB.WithContext(ctx), a, lotID, in); err != nil {
		return nil, err
	}

	head := make([]byte, sniffLen)
	n, err := io.ReadFull(body, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, interrupted(err)
	}
	head = head[:n]
	if n == 0 {
		return nil, trading.Invalid("file", "文件为空")
	}
	if !hasMagic(head, ft.magics) {
		return nil, trading.Invalid("file", "文件内容与扩展名“%s”不符，请上传真实的 %s 文件", strings.ToLower(path.Ext(name)), allowedList).Wrapping(ErrFileType)
	}

	key, err := objectKey(lotID)
	if err != nil {
		return nil, err
	}
	ur := &uploadReader{r: io.MultiReader(bytes.NewReader(head), body), h: sha256.New(), max: s.MaxUpload}
	_, err = s.Storage.Client.PutObject(ctx, s.Storage.Bucket, key, ur, -1,
		minio.PutObjectOptions{ContentType: ft.contentType, PartSize: partSize})
	switch {
	case ur.over:
		s.removeObject(ctx, key, err == nil)
		return nil, tooLarge(s.MaxUpload)
	case ur.err != nil:
		s.removeObject(ctx, key, err == nil)
		return nil, interrupted(ur.err)
	case err != nil:
		return nil, fmt.Errorf("store document: %w", err)
	case declaredSize >= 0 && ur.n != declaredSize:
		s.removeObject(ctx, key, true)
		return nil, trading.Invalid("file", "文件不完整：声明 %d 字节，实际收到 %d 字节", declaredSize, ur.n)
	}

	now := s.Clock.Now()
	doc := &Document{LotID: lotID, Kind: in.Kind, Filename: name, ContentType: ft.contentType, Size: ur.n,
		SHA256: hex.EncodeToString(ur.h.Sum(nil)), ObjectKey: key, UploadedBy: a.AccountID, CreatedAt: now}
	if in.ReplacesID != 0 {
		doc.ReplacesID = &in.ReplacesID
	}
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var lot trading.Lot
		if err := tx.First(&lot, lotID).Error; err != nil {
			return err
		}
		// Publishing the opening announcement updates the project row before it
		// releases documents; holding this share lock, the upload sees the
		// project as it will be when its row is released, or not at all.
		if err := tx.Clauses(clause.Locking{Strength: "SHARE"}).Select("id").First(&trading.Project{}, lot.ProjectID).Error; err != nil {
			return err
		}
		t, err := authorizeUpload(tx, a, lotID, in)
		if err != nil {
			return err
		}
		doc.RegistrationID, doc.Version = t.regID, 1
		if in.Kind != DocMaterial && t.project.Status != trading.ProjectDraft {
			// Equivalent SQL: SELECT coalesce(max(version), 0) + 1 FROM documents
			//   WHERE lot_id = ? AND released_at IS NOT NULL AND kind <> 'material'
			if err := tx.Model(&Document{}).Where("lot_id = ? AND released_at IS NOT NULL AND kind <> ?", lotID, DocMaterial).
				Select("coalesce(max(version), 0) + 1").Scan(&doc.Version).Error; err != nil {
				return err
			}
		}
		if err := tx.Create(doc).Error; err != nil {
			return err
		}
		summary := fmt.Sprintf("上传%s《%s》第%d版：项目 %s %s%d，%d 字节，SHA-256 %s", in.Kind.Name(), name, doc.Version,
			t.project.Code, t.project.Category.LotNoun(), t.lot.Seq, doc.Size, doc.SHA256)
		if doc.ReplacesID != nil {
			summary += fmt.Sprintf("，替代文件 %d", *doc.ReplacesID)
		}
		return trading.Audit(tx, now, a, "document.upload", "document", fmt.Sprint(doc.ID), summary)
	})
	if err != nil {
		s.removeObject(ctx, key, true)
		return nil, err
	}
	return doc, nil
}

// interrupted is a 400: the client's stream broke off (a closed browser
// tab, a dropped connection, a malformed body), and nothing was kept.
func interrupted(cause error) *trading.Error {
	return trading.Invalid("file", "上传中断，文件未保存，请重新上传").WithCode("interrupted").Wrapping(fmt.Errorf("%w: %w", ErrInterrupted, cause))
}

func hasMagic(head []byte, magics [][]byte) bool {
	for _, m := range magics {
		if bytes.HasPrefix(head, m) {
			return true
		}
	}
	return false
}

// objectKey is a fresh, unguessable key; the user's name never appears in it.
func objectKey(lotID int64) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return fmt.Sprintf("lots/%d/%s", lotID, hex.EncodeToString(b)), nil
}

// removeObject deletes an object that must not stay, even when the
// request's context is gone. stored=false: PutObject failed and has
// already aborted its multipart upload; removing is then only a safeguard.
func (s *Service) removeObject(ctx context.Context, key string, stored bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := s.Storage.Client.RemoveObject(ctx, s.Storage.Bucket, key, minio.RemoveObjectOptions{})
	if err != nil && stored && s.Log != nil {
		s.Log.Error("remove orphaned document object", "key", key, "err", err)
	}
}
